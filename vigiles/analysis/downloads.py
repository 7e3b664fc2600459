"""Downloads: the files a downloader writes what it fetched to, by its own options or the URL's name.

A redirection of its output (`curl URL > f`) is the command's write like any other (Cmd.writes);
these are the files curl and wget name themselves.
"""
from __future__ import annotations


def saved_files(name: str, args: list[str]) -> list[str]:
    """Files a downloader writes by its own options (`curl -o F`, `curl -fsSLo F`, `wget -O F`), or
    under the URL's own name (`curl -O URL`, `wget URL`, `wget -P DIR URL`)."""
    if name not in _OUTPUT_OPTIONS:
        return []
    letter, long = _OUTPUT_OPTIONS[name]
    out = []
    named = False  # curl -O: each URL's last path segment
    prefix = ""  # wget -P DIR
    for index, arg in enumerate(args):
        short = arg[:1] == "-" and arg[1:2] != "-" and arg.endswith(letter)  # -o FILE, -fsSLo FILE
        if (short or arg == long) and index + 1 < len(args):
            out.append(args[index + 1])
        elif arg.startswith(long + "="):
            out.append(arg[len(long) + 1:])
        elif name == "curl" and (arg in ("--remote-name", "--remote-name-all")
                                 or arg[:1] == "-" and arg[1:2] != "-" and "O" in arg and "o" not in arg):
            named = True
        elif name == "wget" and (arg == "-P" or arg == "--directory-prefix") and index + 1 < len(args):
            prefix = args[index + 1].rstrip("/") + "/"
        elif name == "wget" and arg.startswith("--directory-prefix="):
            prefix = arg.split("=", 1)[1].rstrip("/") + "/"
    if not out and (named or name == "wget"):
        # saved under the name the URL ends with (wget: index.html for a directory)
        for arg in args:
            if "://" in arg:
                path = arg.split("://", 1)[1].split("?", 1)[0].split("#", 1)[0]
                last = path.rsplit("/", 1)[1] if "/" in path else ""
                if last or name == "wget":
                    out.append(prefix + (last or "index.html"))
    return out


_OUTPUT_OPTIONS = {"curl": ("o", "--output"), "wget": ("O", "--output-document")}
"""The letter of a downloader's short option for its output file, and the long option."""
