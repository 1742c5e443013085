"""Management chains followed to their end, at any depth, in time linear in their size.

Each person has at most one manager, so the reporting links form a *functional graph*:
trees whose roots are either a top manager or a loop (bad HR data: A reports to B, B to
A). Someone is *above* a person when following the manager links from that person reaches
them; in a loop, everyone reaches everyone, so every member of a loop is above the others
and above everyone who reports into it.

:func:`reporting_loops` finds the loops with one walk per person that stops at anyone
already walked (each person is walked once). :func:`chain_pair_keys` contracts each loop to
one node and goes down the resulting forest depth first with an explicit stack (no
recursion limit), holding the enrolled mentees and mentors above the current node: each
(mentee, mentor) pair in one chain is written once, so the time is linear in the number of
people plus the number of pairs the rule forbids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from binome_shared.contracts.participants import ParticipantProfile, ReportingLine


def manager_links(
    people: Iterable[ParticipantProfile], reporting_lines: Iterable[ReportingLine]
) -> dict[str, str]:
    """Each person's manager; a profile's ``manager_id`` wins over a separate line."""
    managers = {line.employee_id: line.manager_id for line in reporting_lines}
    for person in people:
        # The profile is the system of record; a separate line only fills a gap.
        if person.manager_id is not None:
            managers[person.participant_id] = person.manager_id
    return managers


def reporting_loops(managers: Mapping[str, str]) -> list[list[str]]:
    """Every loop of the reporting links, each in chain order (A, B, C for A → B → C → A)."""
    walked: set[str] = set()
    loops: list[list[str]] = []
    for start in managers:
        path: dict[str, int] = {}
        current: str | None = start
        while current is not None and current not in walked and current not in path:
            path[current] = len(path)
            current = managers.get(current)
        if current is not None and current in path:
            loops.append(list(path)[path[current] :])
        walked.update(path)
    return loops


def chain_pair_keys(
    *,
    managers: Mapping[str, str],
    mentee_ids: Sequence[str],
    mentor_ids: Sequence[str],
) -> IntArray:
    """Sorted keys ``mentee_index * len(mentor_ids) + mentor_index`` of pairs in one chain."""
    forest = _Forest.build(managers, mentee_ids=mentee_ids, mentor_ids=mentor_ids)
    return forest.pairs_in_a_chain(len(mentor_ids))


IntArray = NDArray[np.int64]


class _Forest:
    """The reporting links with each loop contracted to one node."""

    def __init__(self) -> None:
        self.node_of: dict[str, int] = {}
        self.children: list[list[int]] = []
        self.has_parent: list[bool] = []
        self.mentees: list[list[int]] = []
        self.mentors: list[list[int]] = []

    def _node(self, person: str) -> int:
        node = self.node_of.get(person)
        if node is None:
            node = len(self.children)
            self.node_of[person] = node
            self.children.append([])
            self.has_parent.append(False)
            self.mentees.append([])
            self.mentors.append([])
        return node

    @classmethod
    def build(
        cls, managers: Mapping[str, str], *, mentee_ids: Sequence[str], mentor_ids: Sequence[str]
    ) -> _Forest:
        forest = cls()
        looping: set[str] = set()
        for loop in reporting_loops(managers):
            node = forest._node(loop[0])
            for member in loop:
                forest.node_of[member] = node
            looping.update(loop)
        for employee, manager in managers.items():
            if employee in looping:
                continue  # its manager is in the same loop, the same node
            child, parent = forest._node(employee), forest._node(manager)
            forest.children[parent].append(child)
            forest.has_parent[child] = True
        # Someone in no reporting link is in no one's chain: no node needed.
        for people, enrolled in ((mentee_ids, forest.mentees), (mentor_ids, forest.mentors)):
            for index, person in enumerate(people):
                linked = forest.node_of.get(person)
                if linked is not None:
                    enrolled[linked].append(index)
        return forest

    def pairs_in_a_chain(self, mentor_count: int) -> IntArray:
        # Enrolled people above the current node, as stacks with a top.
        mentees_above = np.zeros(sum(map(len, self.mentees)), dtype=np.int64)
        mentors_above = np.zeros(sum(map(len, self.mentors)), dtype=np.int64)
        parts: list[IntArray] = [np.zeros(0, dtype=np.int64)]
        roots = [node for node, has in enumerate(self.has_parent) if not has]
        # (node, tops of the stacks when it is entered): depth first, so a node's subtree is
        # done before its sibling overwrites the stacks above the tops they share.
        stack: list[tuple[int, int, int]] = [(root, 0, 0) for root in roots]
        while stack:
            node, mentee_top, mentor_top = stack.pop()
            here_mentees = np.array(self.mentees[node], dtype=np.int64)
            here_mentors = np.array(self.mentors[node], dtype=np.int64)
            # Mentees above or here with mentors here, mentees here with mentors above.
            if here_mentors.size and mentee_top + here_mentees.size:
                mentees = np.concatenate([mentees_above[:mentee_top], here_mentees])
                parts.append(np.add.outer(mentees * mentor_count, here_mentors).reshape(-1))
            if here_mentees.size and mentor_top:
                above = mentors_above[:mentor_top]
                parts.append(np.add.outer(here_mentees * mentor_count, above).reshape(-1))
            mentees_above[mentee_top : mentee_top + here_mentees.size] = here_mentees
            mentors_above[mentor_top : mentor_top + here_mentors.size] = here_mentors
            below = (mentee_top + here_mentees.size, mentor_top + here_mentors.size)
            stack.extend((child, *below) for child in self.children[node])
        return np.unique(np.concatenate(parts))
