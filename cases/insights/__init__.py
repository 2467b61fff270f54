"""Insights for managers, apart from case work: loop metrics, scores by
journey, touchpoint, team and period, the journey map, the Pareto of root
causes and the chain of CX value, as pages and over the API.

- `queries`: every figure (reads only); `loop`: the loop metrics it uses;
- `params`: the metrics query parameters, checked alike for page and API;
- `charts`: the pages' server-side SVG charts;
- `views`: the pages; `api`: the REST endpoints; `urls`: the routes of both.

Pages and API are siblings: both call `queries`, neither imports the other.
Feedback and journeys never import this package; the score summary it reads
is written by `feedback.summaries`.
"""
