"""The containers a workload manifest starts: Kubernetes objects (Pod, Deployment, DaemonSet, Job,
CronJob, ...) given to `kubectl apply`/`create`, and Compose services.

A manifest is YAML (JSON is YAML too), one document or several. Any mapping with a string `image`
is a container: Kubernetes gives it `command` (the entrypoint) and `args`, Compose `entrypoint` and
`command`, each a list or a string. The image's own program runs where no entrypoint is given.
Hostile input stays bounded: the text read, the nodes visited (aliases can make a small document a
huge graph) and the containers returned are all capped.
"""
from __future__ import annotations

import shlex
from typing import Any, NamedTuple

import yaml

MAX_TEXT = 256 * 1024
MAX_NODES = 20_000
MAX_CONTAINERS = 64

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Container(NamedTuple):
    image: str
    entrypoint: list[str]
    """What runs instead of the image's own program (Kubernetes `command`, Compose `entrypoint`)."""
    args: list[str]
    """Its arguments (Kubernetes `args`, Compose `command`)."""


def containers(text: str) -> list[Container]:
    """The containers the manifest declares, in document order; [] for text that is no YAML."""
    try:
        documents = list(yaml.load_all(text[:MAX_TEXT], Loader=_Loader))
    except (yaml.YAMLError, RecursionError, ValueError):
        return []
    out: list[Container] = []
    budget = [MAX_NODES]
    seen: set[int] = set()
    for document in documents:
        _walk(document, out, budget, seen)
    return out[:MAX_CONTAINERS]


def _walk(node: Any, out: list[Container], budget: list[int], seen: set[int]) -> None:
    stack = [node]
    while stack and budget[0] > 0 and len(out) < MAX_CONTAINERS:
        node = stack.pop()
        if not isinstance(node, (dict, list)) or id(node) in seen:
            continue
        seen.add(id(node))
        budget[0] -= 1
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        image = node.get("image")
        if isinstance(image, str) and image:
            compose = "entrypoint" in node or "args" not in node and isinstance(node.get("command"), str)
            if compose:
                out.append(Container(image, _words(node.get("entrypoint")), _words(node.get("command"))))
            else:
                out.append(Container(image, _words(node.get("command")), _words(node.get("args"))))
        stack.extend(reversed([v for v in node.values() if isinstance(v, (dict, list))]))


def _words(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int, float))][:256]
    if isinstance(value, str):
        try:
            return shlex.split(value)[:256]
        except ValueError:
            return value.split()[:256]
    return []
