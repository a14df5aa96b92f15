"""The teaching demo in the browser (``govsim-demo`` serves it), by part.

- :mod:`.config`: the demo's settings composed into a model config with Hydra's compose API.
- :mod:`.state`: :class:`~.state.Lesson` (one model, or two stepped together) and the store that
  keeps lessons across a page reload.
- :mod:`.texts`: the Dutch and English catalogues (``locales/*.yaml``), number formats and the
  translation of :class:`sim.ConfigError`.
- :mod:`.charts`: the line charts and the network, drawn once and blitted each step.
- :mod:`.export`: the charts as PNG and the data as CSV.
- :mod:`.page`: the Solara page.
"""
