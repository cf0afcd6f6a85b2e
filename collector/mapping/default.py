"""Divolte's built-in mapping onto ``DefaultEventRecord``, used when a mapping names no script.

Field for field what Divolte's ``Mapping.defaultRecordMapping`` sets, in the schema's order. Absent values
stay ``None``, which the schema's ``["null", …]`` unions accept; ``eventType`` falls back to the schema
default ``"unknown"``. Written out by hand rather than through the mapping DSL because it is the one mapping
every deployment runs, and a flat dict literal is the cheapest way to build the record.
"""

from __future__ import annotations

from typing import Any

from collector.avro.schemas import Schema, default_schema
from collector.enrich.useragent import UserAgentParser
from collector.events import DivolteEvent
from collector.mapping.base import first_header


class DefaultMapping:
    """The built-in mapping. ``schema`` is always Divolte's default schema (a configured one is ignored)."""

    def __init__(self, user_agents: UserAgentParser, schema: Schema | None = None) -> None:
        self.schema = schema or default_schema()
        self._user_agents = user_agents

    def map(self, event: DivolteEvent) -> dict[str, Any]:
        ua_string = first_header(event.headers, b"user-agent")
        record: dict[str, Any] = {
            "detectedDuplicate": event.duplicate,
            "detectedCorruption": event.corrupt,
            "firstInSession": event.first_in_session,
            "timestamp": event.timestamp,
            "clientTimestamp": event.client_timestamp,
            "remoteHost": event.remote_host,
            "referer": event.referer,
            "location": event.location,
            "viewportPixelWidth": event.viewport_pixel_width,
            "viewportPixelHeight": event.viewport_pixel_height,
            "screenPixelWidth": event.screen_pixel_width,
            "screenPixelHeight": event.screen_pixel_height,
            "partyId": event.party_id,
            "sessionId": event.session_id,
            "pageViewId": event.page_view_id,
            "eventType": "unknown" if event.event_type is None else event.event_type,
            "userAgentString": ua_string,
        }
        if ua_string is None:
            record.update(_NO_USER_AGENT)
        else:
            ua = self._user_agents.parse(ua_string)
            record["userAgentName"] = ua.name
            record["userAgentFamily"] = ua.family
            record["userAgentVendor"] = ua.vendor
            record["userAgentType"] = ua.type
            record["userAgentVersion"] = ua.version
            record["userAgentDeviceCategory"] = ua.device_category
            record["userAgentOsFamily"] = ua.os_family
            record["userAgentOsVersion"] = ua.os_version
            record["userAgentOsVendor"] = ua.os_vendor
        return record


_NO_USER_AGENT: dict[str, Any] = {
    "userAgentName": None,
    "userAgentFamily": None,
    "userAgentVendor": None,
    "userAgentType": None,
    "userAgentVersion": None,
    "userAgentDeviceCategory": None,
    "userAgentOsFamily": None,
    "userAgentOsVersion": None,
    "userAgentOsVendor": None,
}
