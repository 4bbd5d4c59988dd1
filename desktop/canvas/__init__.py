"""The node-editor canvas: scene, view, node and link items, and the editing actions."""

from desktop.canvas.editing import CanvasEditor
from desktop.canvas.link_item import LinkItem
from desktop.canvas.node_item import NodeItem
from desktop.canvas.scene import CanvasScene
from desktop.canvas.view import KIND_MIME, CanvasView

__all__ = ["KIND_MIME", "CanvasEditor", "CanvasScene", "CanvasView", "LinkItem", "NodeItem"]
