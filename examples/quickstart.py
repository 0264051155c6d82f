"""A short tour of cedarlang: policies, entities, a schema-checked request, a decision."""

from __future__ import annotations

import cedarlang

POLICIES = """
// Owners may do anything with their photos.
@id("owner-access")
permit (principal, action, resource)
when { resource has owner && resource.owner == principal };

// Members of a photo's album viewers group may view it.
permit (principal, action == Action::"view", resource)
when { principal in resource.viewers };

// Nobody views private photos from outside the office network.
forbid (principal, action == Action::"view", resource)
when { resource.private && !context.source_ip.isInRange(ip("10.0.0.0/8")) };
"""

ENTITIES = [
    {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": []},
    {"uid": {"type": "User", "id": "bob"}, "attrs": {}, "parents": [{"type": "Group", "id": "friends"}]},
    {"uid": {"type": "Group", "id": "friends"}, "attrs": {}, "parents": []},
    {
        "uid": {"type": "Photo", "id": "beach.jpg"},
        "attrs": {
            "owner": {"__entity": {"type": "User", "id": "alice"}},
            "viewers": {"__entity": {"type": "Group", "id": "friends"}},
            "private": True,
        },
        "parents": [],
    },
]


def main() -> None:
    policies = cedarlang.PolicySet.from_str(POLICIES)
    entities = cedarlang.Entities.from_json(ENTITIES)
    authorizer = cedarlang.Authorizer()
    for who, ip in [("alice", "192.168.1.7"), ("bob", "10.1.2.3"), ("bob", "192.168.1.7")]:
        request = cedarlang.Request(
            principal=f'User::"{who}"',
            action='Action::"view"',
            resource='Photo::"beach.jpg"',
            context={"source_ip": {"__extn": {"fn": "ip", "arg": ip}}},
        )
        response = authorizer.is_authorized(request, policies, entities)
        reasons = ", ".join(sorted(response.reasons)) or "no policy applies"
        print(f"{who} views beach.jpg from {ip}: {response.decision.value.upper()} ({reasons})")
    try:
        cedarlang.PolicySet.from_str("permit(principal, action, resource) when { 1 = 1 };")
    except cedarlang.ParseError as err:
        print("\nA policy with a mistake is reported like this:\n")
        print(err.render())


if __name__ == "__main__":
    main()
