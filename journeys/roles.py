"""The roles are Django groups, created by migration (journeys 0002; each app's
migrations grant its own permissions with a frozen copy of the helper).

- Frontline: works cases of their own and takes unassigned cases of their
  teams; reads journeys and touchpoints.
- Team lead: everything Frontline may, on every case of the teams they lead
  (reassign, escalate, reopen, cancel), and reads the audit trail of those.
- CX admin: configures journeys, touchpoints, teams, routing rules, root
  causes and surveys in the admin; acts on every case.

- Integration: a service account; sends feedback and reads journeys,
  touchpoints, customers and feedback over the API with its token.

Scope (which cases) comes from team membership and leadership; the group
grants what kind of thing a person may do.
"""

FRONTLINE = "Frontline"
TEAM_LEAD = "Team lead"
CX_ADMIN = "CX admin"
# Not a person: the service account behind an integration's API token.
INTEGRATION = "Integration"
ALL_ROLES = (FRONTLINE, TEAM_LEAD, CX_ADMIN, INTEGRATION)
