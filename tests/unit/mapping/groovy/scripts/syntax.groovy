/*
 * Groovy's syntax in the forms mappings are written in: optional parentheses and commas, semicolons,
 * chains continued on the next line, trailing closures, and variables declared outside mapping { }.
 */
def prefix = 'https://'                               // a variable of the script, visible inside mapping { }
map 'declared outside mapping { }' onto 'queryparam'  // the script's own map works outside mapping { } too

mapping {
    map(location()).onto('location')                  // every parenthesis written out
    map referer() onto('referer')
    map(eventType()) onto 'eventType'
    map 'client', partyId()                           // map(field, value) without its parentheses
    map('session', sessionId()); map pageViewId() onto 'pageview'
    when(referer().isPresent()).apply({
        map 'has a referer' onto 'refererProtocol'
    })
    when(location().isPresent()) {                    // a trailing closure: when(condition, closure)
        map 'has a location' onto 'locationProtocol'
    }
    when location().isAbsent() apply { }
    section { }

    def u = parse(location()).to(uri)
    map u
        .query()
        .value('q') onto 'uriQueryStringValue'
    def scheme
    scheme = u.scheme()
    map scheme onto 'uriScheme'
    map { return u.host() } onto 'uriHost'
    section() {
        map matcher(location(), prefix + '.*').matches() onto 'flag1'
        exitWhen corrupt()
        map 'not corrupt' onto 'contentPage';
    }
}

mapping {                                             // a second block adds to the same mapping
    map 'second block' onto 'subCategory'
    when referer().isAbsent() stop()
    when location().isAbsent() exit()
    map 'end' onto 'event'
}
