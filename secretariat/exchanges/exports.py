"""The relationship graph as files: the edges as a table (CSV) and the graph as GraphML.

Both write one edge per confirmed exchange (a multigraph): tools such as Gephi, yEd, NetworkX
or igraph merge parallel edges themselves if wanted, and nothing is lost (type and date of each
exchange). The GraphML nodes are the graph page's nodes, isolated members included.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - we write XML, never parse untrusted input
from collections.abc import Sequence
from typing import Any

from secretariat.exchanges.queries import ExchangeRow, Graph, Node

GRAPHML_NAMESPACE = "http://graphml.graphdrawing.org/xmlns"
GRAPHML_SCHEMA = "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"

#: (key id, attribute name, GraphML type) of the node and edge attributes.
NODE_KEYS = (
    ("n_name", "name", "string"),
    ("n_slug", "slug", "string"),
    ("n_region", "region", "string"),
    ("n_country", "country", "string"),
    ("n_degree", "degree", "int"),
    ("n_given", "given", "int"),
    ("n_received", "received", "int"),
)
EDGE_KEYS = (
    ("e_type", "type", "string"),
    ("e_date", "date", "string"),
    ("e_group", "group", "string"),
    ("e_theme", "theme", "string"),
)

EDGE_COLUMNS = (
    "exchange_id",
    "from_member",
    "from_slug",
    "from_region",
    "to_member",
    "to_slug",
    "to_region",
    "type",
    "occurred_on",
    "working_group",
    "theme",
    "cross_region",
)

#: Characters XML 1.0 does not allow, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: Any) -> str:
    return _NOT_XML.sub("", str(value))


def _cross_region(source: Node, target: Node) -> str:
    if source.region_id is None or target.region_id is None:
        return ""
    return "yes" if source.region_id != target.region_id else "no"


def edge_table(graph: Graph, rows: Sequence[ExchangeRow]) -> tuple[Sequence[str], list[list]]:
    """Headers and rows of the edge list, one row per exchange."""
    nodes = {node.id: node for node in graph.nodes}
    table = []
    for row in rows:
        source, target = nodes[row.source], nodes[row.target]
        table.append(
            [
                row.id,
                source.name,
                source.slug,
                source.region,
                target.name,
                target.slug,
                target.region,
                row.exchange_type.value,
                row.occurred_on,
                row.group,
                row.theme,
                _cross_region(source, target),
            ]
        )
    return EDGE_COLUMNS, table


def graphml(graph: Graph, rows: Sequence[ExchangeRow]) -> bytes:
    """A directed GraphML document of the members and their exchanges."""
    root = ET.Element(
        "graphml",
        {
            "xmlns": GRAPHML_NAMESPACE,
            "xmlns:xsi": XSI_NAMESPACE,
            "xsi:schemaLocation": f"{GRAPHML_NAMESPACE} {GRAPHML_SCHEMA}",
        },
    )
    for scope, keys in (("node", NODE_KEYS), ("edge", EDGE_KEYS)):
        for key_id, name, kind in keys:
            ET.SubElement(
                root, "key", {"id": key_id, "for": scope, "attr.name": name, "attr.type": kind}
            )
    tree = ET.SubElement(root, "graph", {"id": "exchanges", "edgedefault": "directed"})
    for node in graph.nodes:
        element = ET.SubElement(tree, "node", {"id": f"m{node.id}"})
        values = (
            node.name,
            node.slug,
            node.region,
            node.country,
            node.degree,
            node.given,
            node.received,
        )
        for (key_id, _name, _kind), value in zip(NODE_KEYS, values, strict=True):
            if value is not None:
                ET.SubElement(element, "data", {"key": key_id}).text = _xml_text(value)
    for row in rows:
        element = ET.SubElement(
            tree,
            "edge",
            {"id": f"e{row.id}", "source": f"m{row.source}", "target": f"m{row.target}"},
        )
        values = (row.exchange_type.value, row.occurred_on.isoformat(), row.group, row.theme)
        for (key_id, _name, _kind), value in zip(EDGE_KEYS, values, strict=True):
            if value is not None:
                ET.SubElement(element, "data", {"key": key_id}).text = _xml_text(value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
