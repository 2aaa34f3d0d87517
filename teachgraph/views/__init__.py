"""Pictures of the domain: the skill forest as a PNG (matplotlib), apart from the model it draws.

:func:`draw_forest` renders a :class:`~teachgraph.skills.SkillForest`; the geometry is
:mod:`teachgraph.views.tree_layout` (pure, no matplotlib). The forest's text views (Mermaid,
labels) stay with it in :mod:`teachgraph.skills`.
"""

from teachgraph.views.forest_drawing import accuracy_colormap, draw_forest

__all__ = ["accuracy_colormap", "draw_forest"]
