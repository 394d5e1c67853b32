"""Renderers: render(result, rules, options) -> str. The only place report text is made."""
