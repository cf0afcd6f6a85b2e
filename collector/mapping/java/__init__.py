"""Java's semantics a Divolte mapping depends on: URI and number parsing, JSON to Avro coercion, hash-map order,
digests, JsonPath (Jayway)."""
