// Digests: plain and seeded (HMAC), pieces from values, literals, JSON and other digests.
mapping {
    map digest('SHA-256').add(eventId()).result() onto 'digestBinary'
    map digest('sha-256').add('aLiteralString').result().toHexLower() onto 'digestString'
    def seeded = digest('SHA-512', 'a secret seed').add(partyId()).add(':').add(cookie('nope'))
    map seeded.result().toBase64() onto 'digestString2'
    def params = eventParameters()
    map digest('SHA-384')
            .add(params.path('$.foo'))
            .add(params.path('$.items'))      // objects and arrays add nothing
            .add(params.path('$.bar'))
            .add(digest('SHA-224').add(location()).result())
            .result()
            .toHexUpper() onto 'digestString3'
}
