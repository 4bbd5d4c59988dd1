""":func:`install_live_run` puts the live run into a main window: the run toolbar and Run
menu, the run's progress (the bar on the toolbar, simulated time and pace on the status
bar), the Dashboard, Theory, Results and Events docks, canvas feeding (live node state, link
flows, requests in motion at slow speed), Run Replications, and a clean shutdown when the
window closes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar

from desktop.background import stop_with_window
from desktop.canvas.animation import RequestAnimation
from desktop.canvas.scene import CanvasScene
from desktop.document import ModelDocument
from desktop.run.canvas_flows import CanvasFlows
from desktop.run.controller import LiveRunController


def install_live_run(
    main_window: QMainWindow, document: ModelDocument, scene: CanvasScene, toolbar: QToolBar | None = None
) -> LiveRunController:
    """Add the live run of ``document`` to ``main_window``, every part named by the caller.

    ``scene`` is the canvas showing the document: its node cards get the live state and the
    theory badges, its links the flows, and at slow speed a
    :class:`~desktop.canvas.animation.RequestAnimation` overlay shows requests in motion; its
    selection picks the Dashboard's stations. The run controls go into ``toolbar`` (a new
    toolbar named ``run`` when None), with the progress bar; the progress text goes on the
    status bar. Also a Run menu, the Dashboard, Theory, Results and Events docks (object names
    ``run_dashboard`` …), Run Replications and a clean shutdown when the window closes.
    """
    flows = CanvasFlows()
    links = scene.links
    flows.link_item = lambda source, target: links.get((source, target))
    flows.animation = RequestAnimation(scene)
    scene.addItem(flows.animation)
    controller = LiveRunController(document, main_window, scene.nodes.get, flows)
    if toolbar is None:
        toolbar = main_window.addToolBar("Run")
        toolbar.setObjectName("run")
    controller.controls.add_to(toolbar)
    controller.controls.add_to_menu(main_window.menuBar().addMenu("&Run"))
    replications = controller.replications
    controller.controls.replications_requested.connect(replications.ask_and_run)
    replications.busy_changed.connect(lambda busy: controller.controls.replications_action.setEnabled(not busy))
    docks = {}
    for name, widget, area in (
        ("Dashboard", controller.dashboard, Qt.DockWidgetArea.BottomDockWidgetArea),
        ("Theory", controller.theory_panel, Qt.DockWidgetArea.RightDockWidgetArea),
        ("Results", controller.results_panel, Qt.DockWidgetArea.RightDockWidgetArea),
        ("Events", controller.event_log, Qt.DockWidgetArea.RightDockWidgetArea),
    ):
        dock = QDockWidget(name, main_window)
        dock.setObjectName(f"run_{name.lower()}")
        dock.setWidget(widget)
        main_window.addDockWidget(area, dock)
        docks[name] = dock
    main_window.tabifyDockWidget(docks["Theory"], docks["Results"])
    main_window.tabifyDockWidget(docks["Results"], docks["Events"])
    docks["Theory"].raise_()
    replications.finished.connect(docks["Results"].raise_)
    main_window.resizeDocks([docks["Dashboard"]], [max(300, main_window.height() * 2 // 5)], Qt.Orientation.Vertical)
    main_window.statusBar().setVisible(True)
    controller.controls.add_to_status_bar(main_window.statusBar())
    controller.message_posted.connect(lambda text: main_window.statusBar().showMessage(text, 8000))
    scene.selection_changed.connect(lambda: controller.dashboard.set_visible_stations(scene.selected_node_ids()))
    stop_with_window(main_window, controller.shutdown)
    return controller
