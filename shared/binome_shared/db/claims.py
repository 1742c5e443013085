"""How a claim query (``ORDER BY … LIMIT n FOR UPDATE SKIP LOCKED``) keeps a bounded cost.

A claim must walk an index in the order it asks for and stop after ``n`` rows. Without
statistics (a new table, or one just filled by a burst), the planner prefers to fetch every
matching row, sort them all and keep ``n``: each claim then costs the backlog's size, and
draining a backlog costs its square. Inside the claim's transaction the two settings below
take that plan away; :data:`PLAN_FREELY` gives it back before anything else runs there.
"""

from __future__ import annotations

WALK_THE_INDEX = "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off"
PLAN_FREELY = "SET LOCAL enable_sort TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT"
