// Literals with Groovy's types: each fits exactly one Avro type, as in Divolte.
mapping {
    map 'a string' onto 'text'
    map true onto 'flag'
    map 42 onto 'int32'                  // an Integer
    map 42L onto 'int64'                 // a Long
    map 1.5F onto 'fp32'                 // a Float
    map 2.5D onto 'fp64'                 // a Double
    map 0x7fffffff onto 'int32'          // still an Integer
    map(-9223372036854775808L) onto 'int64'   // Groovy reads `map -1` as a subtraction
    map 1e3d onto 'fp64'

    // Every kind of Groovy string
    map 'it\'s "single"\t\u00e9' onto 'single'
    map "double \"quoted\" \$5" onto 'double'
    map '''triple
single''' onto 'tripleSingle'
    map """triple \
double""" onto 'tripleDouble'
    map /^\/path\/(\d+)\.html$/ onto 'slashy'
    map $/dollar /slashy/ $$ \d/$ onto 'dollarSlashy'
    map 'joined ' +
        'across lines' onto 'joined'

    // Parsing into each number type, and comparisons that Java's equals makes true
    def locationUri = parse location() to uri
    def q = locationUri.query()
    map { parse q.value('n') to int32 } onto 'parsedInt'
    map { parse q.value('l') to int64 } onto 'parsedLong'
    map { parse q.value('f') to fp32 } onto 'parsedFloat'
    map toFloat(q.value('f')) onto 'parsedFloat2'
    map { parse q.value('f') to fp64 } onto 'parsedDouble'
    map { parse q.value('b') to bool } onto 'parsedBool'
    map eventType().equalTo("pageView") onto 'eqString'
    map firstInSession().equalTo(true) onto 'eqBoolean'
    map toInt(q.value('n')).equalTo(42) onto 'eqInteger'
    map toLong(q.value('l')).equalTo(9000000000L) onto 'eqLong'
    map toFloat(q.value('f')).equalTo(1.1F) onto 'eqFloat'
    map toDouble(q.value('f')).equalTo(1.1D) onto 'eqDouble'
    def m = match /(?<x>[a-z]+)-\d+/ against q.value('s')
    map m.group('x') onto 'regexMatched'
}
