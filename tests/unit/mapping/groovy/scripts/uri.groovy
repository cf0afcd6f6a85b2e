/*
 * URI parsing (java.net.URI) and every part of a parsed URI, then string parsing into numbers and booleans.
 */
mapping {
    def locationUri = parse location() to uri
    map locationUri.scheme() onto 'locationProtocol'
    map locationUri.host() onto 'uriHost'
    map locationUri.port() onto 'uriPort'
    map locationUri.path() onto 'uriPath'
    map locationUri.rawPath() onto 'contentPage'
    map locationUri.decodedQueryString() onto 'uriQueryString'
    map locationUri.rawQueryString() onto 'subCategory'
    map locationUri.decodedFragment() onto 'uriFragment'
    map locationUri.rawFragment() onto 'toplevelCategory'

    def query = locationUri.query()
    map query onto 'uriQuery'
    map query.value('q') onto 'uriQueryStringValue'
    map query.valueList('p') onto 'uriQueryStringValues'

    // The fragment of a single-page application is often a URI of its own.
    def fragmentUri = parse locationUri.rawFragment() to uri
    map fragmentUri.path() onto 'pageview'
    map fragmentUri.query().value('x') onto 'event'

    // DslRecordMapping's own spelling of `parse … to uri`
    map parseUri(referer()).scheme() onto 'refererProtocol'

    // Strings parsed into numbers and booleans: `parse … to`, in a closure, and the direct forms.
    map { parse query.value('n') to int32 } onto 'queryparamInteger'
    map toInt(query.value('n')) onto 'pathInteger'
    map { parse query.value('l') to int64 } onto 'queryparamLong'
    map toLong(query.value('l')) onto 'pathLong'
    map { parse query.value('f') to fp64 } onto 'queryparamDouble'
    map toDouble(query.value('f')) onto 'pathDouble'
    map { parse query.value('b') to bool } onto 'queryparamBoolean'
    map toBoolean(cookie('nope')) onto 'pathBoolean'
    map {
        def n = query.value('n')
        parse n to int32      // the closure's last expression is what gets mapped
    } onto 'customInteger'
}
