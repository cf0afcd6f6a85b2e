# Per-topic routing by event type, which Divolte users asked for for years (its issues #6, #421, #483).
# Point two mappings at the same source, each with its own sink (for example two Kafka topics):
#
#   mappings {
#     page_views = { sources = [browser], sinks = [page_view_topic], mapping_script_file = "page_views.py" }
#     other      = { sources = [browser], sinks = [event_topic],     mapping_script_file = "other.py" }
#   }
#
# and drop in each what belongs to the other with discard(). This file is the 'page views' half; the other
# half is the same with the condition reversed: when(eventType().equalTo("pageView")).discard().

when(not_(eventType().equalTo("pageView"))).discard()

map_(duplicate()).onto("detectedDuplicate")
map_(corrupt()).onto("detectedCorruption")
map_(firstInSession()).onto("firstInSession")
map_(timestamp()).onto("timestamp")
map_(clientTimestamp()).onto("clientTimestamp")
map_(remoteHost()).onto("remoteHost")
map_(referer()).onto("referer")
map_(location()).onto("location")
map_(partyId()).onto("partyId")
map_(sessionId()).onto("sessionId")
map_(pageViewId()).onto("pageViewId")
map_(eventType()).onto("eventType")
map_(userAgentString()).onto("userAgentString")
