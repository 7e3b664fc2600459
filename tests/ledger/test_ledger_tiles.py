"""c2sp.org/tlog-tiles: paths, which tiles a tree has, tile hashes, entry bundles, and tiles written by a real log."""
import pytest

from vigiles.ledger.log import Log
from vigiles.ledger.tiles import (MAX_ENTRY_SIZE, Tile, TileError, TileStore, decode_bundle, decode_index,
                                  encode_bundle, encode_index, entries_path, hash_from_tile, parse_tile_path,
                                  tile_for_index, tile_path, tiles_for_size)
from vigiles.ledger.tree import MemoryTree, stored_hash_count, stored_hash_index


def test_index_encoding_from_the_spec():
    # tlog-tiles: "index 1234067 will be encoded as x001/x234/067"
    assert encode_index(1234067) == "x001/x234/067"
    assert [encode_index(n) for n in (0, 7, 999, 1000, 1001000)] == ["000", "007", "999", "x001/000", "x001/x001/000"]
    for n in (0, 5, 999, 1000, 65535, 1234067, 10 ** 12):
        assert decode_index(encode_index(n)) == n
    for bad in ("1/000", "x000/001", "01", "x01/000", "000/001", "x001"):
        with pytest.raises(TileError):
            decode_index(bad)


def test_paths():
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(1, 5, 17) == "tile/1/005.p/17"
    assert entries_path(3) == "tile/entries/003" and entries_path(3, 112) == "tile/entries/003.p/112"
    assert parse_tile_path("tile/2/x001/234.p/9") == ("2", 1234, 9)
    assert parse_tile_path("tile/entries/000") == ("entries", 0, 256)
    for bad in ("tile/64/000", "tile/0/000.p/256", "tile/0/000.p/0", "tile/00/000", "tile/0/0000"):
        with pytest.raises(TileError):
            parse_tile_path(bad)


def test_tiles_of_a_tree_match_the_spec_examples():
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
    # tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    # partial level 2 tile of width 1"
    tiles = tiles_for_size(70000)
    level0 = [t for t in tiles if t.level == 0]
    assert len([t for t in level0 if t.full]) == 273 and [t.width for t in level0 if not t.full] == [112]
    assert [(t.index, t.width) for t in tiles if t.level == 1] == [(0, 256), (1, 17)]
    assert [(t.index, t.width) for t in tiles if t.level == 2] == [(0, 1)]
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1"
    assert tiles_for_size(256) == [Tile(0, 0, 256), Tile(1, 0, 1)]
    assert tiles_for_size(0) == []


def test_hash_from_tile_small_height():
    """With 4-wide tiles (height 2), every stored hash is recovered from the tile that holds it."""
    tree = MemoryTree([b"%d" % i for i in range(300)])
    h = 2
    for index in range(stored_hash_count(300)):
        tile, _, _ = tile_for_index(index, h)
        # Tile contents: the hashes at level tile.level*h, numbers index*4 .. index*4+width.
        data = b"".join(tree.hashes[stored_hash_index(tile.level * h, tile.index * 4 + k)] for k in range(tile.width))
        assert hash_from_tile(tile, data, index) == tree.hashes[index]


def test_bundles():
    entries = [b"", b"a", bytes(300), bytes(MAX_ENTRY_SIZE)]
    data = encode_bundle(entries)
    assert data[:5] == b"\x00\x00\x00\x01a"
    assert decode_bundle(data) == entries
    with pytest.raises(TileError):
        decode_bundle(data[:-1])
    with pytest.raises(TileError):
        decode_bundle(data + b"\x00")
    with pytest.raises(TileError):
        encode_bundle([bytes(MAX_ENTRY_SIZE + 1)])


@pytest.fixture(scope="module")
def big_log(tmp_path_factory):
    """A log of 70,001 entries (three tile levels), checkpointed at several sizes."""
    root = tmp_path_factory.mktemp("tiles") / "log"
    entries = [b"entry %d" % i for i in range(70001)]
    lg = Log.init(root, "example.org/tiles", checkpoint_interval=None)
    for start in range(0, 70000, 5000):
        lg.append_many(entries[start:start + 5000])
        lg.checkpoint()
    lg.append(entries[70000])
    lg.checkpoint()
    lg.close()
    return root, entries, MemoryTree(entries)


def test_tiles_on_disk_follow_the_formula(big_log):
    root, entries, tree = big_log
    # Level-1 hash i is MTH(D[i*256:(i+1)*256]); level-2 hash 0 is MTH(D[0:65536]).
    level1 = (root / "tile/1/000").read_bytes()
    assert len(level1) == 8192
    assert all(level1[32 * i:32 * i + 32] == tree.hashes[stored_hash_index(8, i)] for i in range(256))
    assert (root / "tile/2/000.p/1").read_bytes() == tree.hashes[stored_hash_index(16, 0)]
    assert (root / "tile/1/001.p/17").read_bytes() == b"".join(
        tree.hashes[stored_hash_index(8, 256 + i)] for i in range(17))
    assert decode_bundle((root / "tile/entries/273.p/113").read_bytes()) == entries[273 * 256:]
    # Partial tiles of full tiles were removed once the full tile existed.
    assert not (root / "tile/0/000.p").exists()


def test_tile_store_serves_the_same_proofs_as_memory(big_log):
    root, entries, tree = big_log
    store = TileStore(root, 70001)
    for size in (1, 255, 256, 257, 5000, 65535, 65536, 65537, 70000, 70001):
        assert store.read_hashes([stored_hash_index(0, size - 1)]) == [tree.hashes[stored_hash_index(0, size - 1)]]
        lg_root = tree.root(size)
        from vigiles.ledger.tree import prove_record, prove_tree, tree_hash
        assert tree_hash(size, store.read_hashes) == lg_root
        for i in {0, size // 3, size - 1}:
            assert prove_record(size, i, store.read_hashes) == tree.prove_record(i, size)
        for old in {1, size // 2, size - 1}:
            assert prove_tree(70001, old, store.read_hashes) == tree.prove_tree(old, 70001)
    assert store.read_entries(273) == entries[273 * 256:]
