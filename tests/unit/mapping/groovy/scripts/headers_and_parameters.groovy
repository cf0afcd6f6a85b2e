// Request headers (all values, normalised) and custom event parameters (JSON).
mapping {
    def h = header('X-Divolte-Test')
    map h onto 'headerList'
    map h.first() onto 'headerFirst'
    map h.last() onto 'headerLast'
    map h.get(0) onto 'headerGet0'
    map h.get(1) onto 'headerGet1'
    map h.get(2) onto 'headerGet2'
    map h.get(3) onto 'headerGet3'
    map h.get(-1) onto 'headerGet_1'
    map h.get(-2) onto 'headerGet_2'
    map h.get(-3) onto 'headerGet_3'
    map h.get(-4) onto 'headerGet_4'
    map header('x-divolte-horrible').commaSeparated() onto 'headers'
    map header('Accept-Language').first() onto 'refererProtocol'

    def params = eventParameters()
    map params.value('foo') onto 'paramValue'
    map eventParameter('foo') onto 'customEventParameter'     // the deprecated spelling
    map params.path('$.bar') onto 'paramIntValue'
    map params.path('$.items[*].price') onto 'itemPrices'
    map params.path('$.items') onto 'items'
    map params onto 'paramRecord'
    map params.value('missing') onto 'contentPage'            // "" (present), as Jackson's asText()
    map params.path('$.missing') onto 'subCategory'           // absent: the field keeps its value
    map params.path('$.foo') onto 'customInteger'             // "string" does not fit an int: left unset
}
