"""RFC 6962 trees: known roots, stored-hash layout, and every inclusion and consistency proof up to 300 leaves."""
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigiles.ledger.tree import (EMPTY_HASH, MemoryTree, ProofError, check_record, check_tree, leaf_hash,
                                 node_hash, prove_record, prove_tree, root_of, split_stored_hash_index,
                                 stored_hash_count, stored_hash_index, tree_hash)

# The eight leaves and their roots from the Certificate Transparency reference test data
# (certificate-transparency merkle_tree_test; the same vectors appear in RFC 6962 implementations).
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
             bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

N = 300


def rejected(check, *args) -> bool:
    try:
        check(*args)
    except ProofError:
        return True
    return False


@pytest.fixture(scope="module")
def big():
    tree = MemoryTree([b"entry %d" % i for i in range(N)])
    roots = [tree.root(n) for n in range(N + 1)]
    leaves = [leaf_hash(b"entry %d" % i) for i in range(N)]
    return tree, roots, leaves


def test_hashes_use_rfc6962_prefixes():
    assert EMPTY_HASH == hashlib.sha256(b"").digest()
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


def test_known_roots():
    tree = MemoryTree(CT_LEAVES)
    assert [tree.root(n).hex() for n in range(1, 9)] == CT_ROOTS
    assert tree.root(0) == EMPTY_HASH


def test_stored_hash_layout():
    # Leaf n is followed by the subtrees it completes: 0,1,(1:0),2,3,(1:1),(2:0),4...
    assert [stored_hash_index(0, n) for n in range(6)] == [0, 1, 3, 4, 7, 8]
    assert stored_hash_index(1, 0) == 2 and stored_hash_index(2, 0) == 6 and stored_hash_index(3, 0) == 14
    for i in range(20000):
        assert stored_hash_index(*split_stored_hash_index(i)) == i
    for n in range(300):
        assert stored_hash_count(n) == len(MemoryTree([b"%d" % i for i in range(n)]).hashes)


def test_roots_match_the_recursive_definition(big):
    tree, roots, leaves = big
    for n in range(N + 1):
        assert roots[n] == root_of(leaves[:n]), n


def test_every_inclusion_proof_verifies_and_fails_when_anything_is_wrong(big):
    """All (index, size) pairs with size <= 300: the proof verifies; a wrong leaf, index, size
    (with that size's true root) or root is rejected."""
    tree, roots, leaves = big
    checked, accepted = 0, []
    for n in range(1, N + 1):
        for i in range(n):
            proof = tree.prove_record(i, n)
            check_record(proof, n, roots[n], i, leaves[i])
            checked += 1
            wrong = [
                (proof, n, roots[n], i, leaves[(i + 1) % N]),            # another leaf
                (proof, n, roots[n], (i + 1) % n if n > 1 else 1, leaves[i]),  # another index
                (proof, n + 1, roots[n + 1] if n < N else b"\0" * 32, i, leaves[i]),  # another size
                (proof, n, roots[n - 1] if n > 1 else b"\0" * 32, i, leaves[i]),  # another root
            ]
            accepted += [(i, n, k) for k, args in enumerate(wrong) if not rejected(check_record, *args)]
    assert checked == N * (N + 1) // 2
    assert accepted == []


def test_every_consistency_proof_verifies_and_fails_when_anything_is_wrong(big):
    tree, roots, leaves = big
    checked, accepted = 0, []
    for n in range(1, N + 1):
        for m in range(0, n + 1):
            proof = tree.prove_tree(m, n)
            check_tree(proof, n, roots[n], m, roots[m])
            checked += 1
            if m == 0:
                continue  # the empty tree is consistent with everything
            wrong = [
                (proof, n, roots[n], m, roots[m - 1]),                 # another old root
                (proof, n, roots[n - 1], m, roots[m]),                 # another new root
                (proof, n + 1, roots[n + 1] if n < N else b"\0" * 32, m, roots[m]),  # another size
            ]
            if m > 1:
                wrong.append((proof, n, roots[n], m - 1, roots[m - 1]))  # another old size
            accepted += [(m, n, k) for k, args in enumerate(wrong) if not rejected(check_tree, *args)]
    assert checked == sum(n + 1 for n in range(1, N + 1))
    assert accepted == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=300), st.data())
def test_inclusion_property(entries, data):
    tree = MemoryTree(entries)
    n = data.draw(st.integers(1, len(entries)))
    i = data.draw(st.integers(0, n - 1))
    proof = tree.prove_record(i, n)
    check_record(proof, n, tree.root(n), i, leaf_hash(entries[i]))
    other = data.draw(st.binary(max_size=9).filter(lambda b: b != entries[i]))
    with pytest.raises(ProofError):
        check_record(proof, n, tree.root(n), i, leaf_hash(other))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bent = proof[:k] + [bytes(32)] + proof[k + 1:]
        if bent != proof:
            with pytest.raises(ProofError):
                check_record(bent, n, tree.root(n), i, leaf_hash(entries[i]))
        with pytest.raises(ProofError):
            check_record(proof[:-1], n, tree.root(n), i, leaf_hash(entries[i]))
        with pytest.raises(ProofError):
            check_record(proof + [bytes(32)], n, tree.root(n), i, leaf_hash(entries[i]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=300), st.data())
def test_consistency_property(entries, data):
    tree = MemoryTree(entries)
    n = data.draw(st.integers(1, len(entries)))
    m = data.draw(st.integers(1, n))
    proof = tree.prove_tree(m, n)
    check_tree(proof, n, tree.root(n), m, tree.root(m))
    forked = list(entries[:m])
    forked[data.draw(st.integers(0, m - 1))] += b"!"
    with pytest.raises(ProofError):
        check_tree(proof, n, tree.root(n), m, MemoryTree(forked).root())
    if proof:
        with pytest.raises(ProofError):
            check_tree(proof[:-1], n, tree.root(n), m, tree.root(m))
        with pytest.raises(ProofError):
            check_tree(proof + [bytes(32)], n, tree.root(n), m, tree.root(m))


def test_proof_requests_out_of_range():
    tree = MemoryTree([b"a", b"b"])
    with pytest.raises(ProofError):
        prove_record(2, 2, tree.read)
    with pytest.raises(ProofError):
        prove_tree(1, 2, tree.read)
    assert prove_tree(2, 0, tree.read) == [] and prove_tree(2, 2, tree.read) == []
    with pytest.raises(ProofError):
        check_tree([], 2, tree.root(), 2, tree.root(1))  # same size, different roots: a fork
    with pytest.raises(ProofError):
        check_tree([], 2, tree.root(), 1, tree.root(1))  # a real proof cannot be empty
    assert tree_hash(0, tree.read) == EMPTY_HASH
