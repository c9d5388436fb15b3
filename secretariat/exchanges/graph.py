"""Lay out the relationship graph for a server-side SVG: a circle of members grouped by region.

Members sit around one circle, clockwise from the top, grouped by region (with a gap between
regions) and by name within a region. A node's colour is its region's (Okabe-Ito palette, safe
for colour-blind readers; cycled when there are more regions), its area grows with its degree,
and an isolated member is drawn hollow. An edge is a quadratic curve bent towards the centre,
with an arrowhead at the member that learned; its width grows with the number of exchanges.
Everything is O(nodes + edges), so 1,000 members and a few thousand edges draw at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from secretariat.exchanges.queries import Graph, Node

#: Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
#: Members without a network region.
NO_REGION_COLOUR = "#BBBBBB"
#: Up to this many members, every member is labelled; beyond, only the top connectors.
LABEL_ALL_LIMIT = 120
#: Labels longer than this are cut (the tooltip and the tables give the full name).
LABEL_LENGTH = 26
#: Above this many edges, edges get no tooltip of their own (the tables and exports have them).
EDGE_TOOLTIP_LIMIT = 1000


@dataclass(frozen=True)
class RegionKey:
    label: str | None
    colour: str
    members: int


@dataclass(frozen=True)
class PlacedNode:
    node: Node
    region: RegionKey
    x: float
    y: float
    r: float
    #: The label, or "" when this node is not labelled.
    label: str
    label_x: float
    label_y: float
    label_rotation: float
    label_anchor: str


@dataclass(frozen=True)
class PlacedEdge:
    source: PlacedNode
    target: PlacedNode
    count: int
    path: str
    width: float


@dataclass(frozen=True)
class Drawing:
    view_box: str
    radius: float
    nodes: list[PlacedNode]
    edges: list[PlacedEdge]
    regions: list[RegionKey]
    labels_all: bool
    font_size: float
    edge_opacity: float
    edge_tooltips: bool

    @property
    def is_empty(self) -> bool:
        return not self.nodes


def _short(name: str) -> str:
    return name if len(name) <= LABEL_LENGTH else name[: LABEL_LENGTH - 1].rstrip() + "…"


def _regions(nodes: list[Node]) -> dict[int | None, RegionKey]:
    """One key per region in the nodes' order; colours by that order, cycling the palette."""
    counts: dict[int | None, int] = {}
    labels: dict[int | None, str | None] = {}
    for node in nodes:
        counts[node.region_id] = counts.get(node.region_id, 0) + 1
        labels.setdefault(node.region_id, node.region)
    keys = {}
    index = 0
    for region_id, count in counts.items():
        if region_id is None:
            colour = NO_REGION_COLOUR
        else:
            colour = PALETTE[index % len(PALETTE)]
            index += 1
        keys[region_id] = RegionKey(label=labels[region_id], colour=colour, members=count)
    return keys


def _fmt(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def layout(graph: Graph, labelled: set[int] | None = None) -> Drawing:
    """Place the nodes and draw the edges; ``labelled`` names the nodes labelled on big graphs."""
    nodes = graph.nodes
    count = len(nodes)
    labels_all = count <= LABEL_ALL_LIMIT
    labelled = labelled or set()
    regions = _regions(nodes)
    spacing = 16.0 if labels_all else 5.0
    gap = 2 if labels_all else max(2, count // 100)
    slots = count + (gap * len(regions) if len(regions) > 1 else 0)
    radius = max(220.0, slots * spacing / (2 * math.pi))
    # Big drawings are shown scaled down: their labels and dots are drawn bigger to stay legible.
    font_size = 11.0 if labels_all else round(max(13.0, radius / 30), 1)
    margin = LABEL_LENGTH * font_size * 0.55 + 20
    half = radius + margin
    view_box = f"{_fmt(-half)} {_fmt(-half)} {_fmt(2 * half)} {_fmt(2 * half)}"

    max_degree = max((n.degree for n in nodes), default=0)
    r_min, r_max = (4.0, 11.0) if labels_all else (2.0, max(9.0, radius / 60))

    placed: dict[int, PlacedNode] = {}
    slot = 0
    previous_region: object = object()
    for node in nodes:
        if node.region_id != previous_region and placed and len(regions) > 1:
            slot += gap
        previous_region = node.region_id
        angle = -math.pi / 2 + 2 * math.pi * (slot + 0.5) / max(slots, 1)
        slot += 1
        cos, sin = math.cos(angle), math.sin(angle)
        size = (
            r_min + (r_max - r_min) * math.sqrt(node.degree / max_degree) if max_degree else r_min
        )
        label = _short(node.name) if labels_all or node.id in labelled else ""
        distance = radius + size + 4
        degrees = math.degrees(angle)
        right = cos >= -1e-9
        placed[node.id] = PlacedNode(
            node=node,
            region=regions[node.region_id],
            x=round(radius * cos, 1),
            y=round(radius * sin, 1),
            r=round(size, 1),
            label=label,
            label_x=round(distance * cos, 1),
            label_y=round(distance * sin, 1),
            label_rotation=round(degrees if right else degrees + 180, 1),
            label_anchor="start" if right else "end",
        )

    width_scale = 1.0 if labels_all else max(0.7, radius / 600)
    edges = []
    for edge in graph.edges:
        source, target = placed.get(edge.source), placed.get(edge.target)
        if source is None or target is None:
            continue
        edges.append(_edge(source, target, edge.count, width_scale))
    edge_opacity = 0.55 if len(edges) <= 200 else max(0.12, 0.55 * math.sqrt(200 / len(edges)))
    return Drawing(
        view_box=view_box,
        radius=radius,
        nodes=list(placed.values()),
        edges=edges,
        regions=list(regions.values()),
        labels_all=labels_all,
        font_size=font_size,
        edge_opacity=round(edge_opacity, 2),
        edge_tooltips=len(edges) <= EDGE_TOOLTIP_LIMIT,
    )


def _edge(source: PlacedNode, target: PlacedNode, count: int, width_scale: float) -> PlacedEdge:
    """A curve bent towards the centre, offset to its right so that A→B and B→A stay apart."""
    x1, y1, x2, y2 = source.x, source.y, target.x, target.y
    dx, dy = x2 - x1, y2 - y1
    # Control point: the chord's middle pulled towards the centre, nudged to the right.
    cx = (x1 + x2) / 2 * 0.3 - dy * 0.06
    cy = (y1 + y2) / 2 * 0.3 + dx * 0.06
    # Start and end on the circles' rims, so that the arrowhead stays visible.
    sx, sy = _towards(x1, y1, cx, cy, source.r)
    ex, ey = _towards(x2, y2, cx, cy, target.r + 1.5)
    width = width_scale * min(4.0, 0.8 + 0.7 * math.log2(count))
    path = f"M{_fmt(sx)} {_fmt(sy)}Q{_fmt(cx)} {_fmt(cy)} {_fmt(ex)} {_fmt(ey)}"
    return PlacedEdge(source=source, target=target, count=count, path=path, width=round(width, 2))


def _towards(x: float, y: float, tx: float, ty: float, distance: float) -> tuple[float, float]:
    length = math.hypot(tx - x, ty - y)
    if length == 0:
        return x, y
    return x + (tx - x) / length * distance, y + (ty - y) / length * distance
