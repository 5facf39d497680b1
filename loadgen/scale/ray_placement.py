"""Where a `--ray` run's actors go, and which node each one ran on.

The share actors are spread over the cluster's nodes (Ray's SPREAD strategy), so that one
node's CPU, network and failure do not carry every share. The barrier actor, which holds the
start, the stops and the samples the actors send as they go (loadgen/scale/ray_samples.py),
is pinned to the driver's own node: a worker node lost mid-run must not take with it what
the other nodes, and the lost one, have already handed over.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from loadgen.report.schema import WorkerNode

SPREAD = "SPREAD"  # Ray's strategy: actors on as many nodes as have room, in turn


def this_node(ray: Any) -> WorkerNode:
    """The Ray node the calling process runs on (an actor: where it was placed)."""
    return {
        "id": str(ray.get_runtime_context().get_node_id()),
        "ip": str(ray.util.get_node_ip_address()),
    }


def on_the_driver_node(ray: Any) -> Any:
    """A scheduling strategy that keeps an actor on the driver's node; Ray's default where
    the driver's node is unknown (a driver connected through `ray://`)."""
    with suppress(Exception):
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        node_id = ray.get_runtime_context().get_node_id()
        if node_id:
            return NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
    return "DEFAULT"


def node_lost(ray: Any, node_id: str) -> bool:
    """True when the cluster says that node is dead (False: alive, or not known)."""
    with suppress(Exception):
        for node in ray.nodes():
            if node.get("NodeID") == node_id:
                return not node.get("Alive", True)
    return False


def short_id(node: WorkerNode) -> str:
    """How a node is named in a sentence: the head of its id (as `ray status` does) and IP."""
    return f"{node['id'][:8]} ({node['ip']})"
