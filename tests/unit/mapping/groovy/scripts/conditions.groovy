// Conditions: comparisons, boolean logic, regular expressions, and `when` in its two forms.
mapping {
    map matcher(location(), '^https?://.*').matches() onto 'sessionStart'  // DslRecordMapping's spelling of match
    map eventType().equalTo('pageView') onto 'flag1'
    map location().equalTo(referer()) onto 'flag2'
    map referer().isPresent().or(location().isPresent()) onto 'unreliable'
    map location().isPresent().and(referer().isPresent()) onto 'dupe'
    map not(location().isAbsent()) onto 'queryparamBoolean'
    map location().isAbsent().negate() onto 'pathBoolean'
    map cookie('nope').equalTo(cookie('nope2')) onto 'cookieBoolean'   // both absent: equal

    when referer().isAbsent() apply {
        map 'direct' onto 'refererProtocol'
    }
    when {
        def u = parse location() to uri
        u.query().value('q').isPresent()
    } apply {
        map 'searched' onto 'contentPage'
    }

    def m = match '^https?://[^/]+/path/with/([0-9]+)/(?<page>[^\\.]+)\\.html$' against location()
    when m.matches() apply {
        map m.group(1) onto 'subCategory'
        map m.group('page') onto 'toplevelCategory'
        map m.group(2).equalTo(m.group('page')) onto 'dupe'
    }
    when not(m.matches()) apply {
        map 'no match' onto 'toplevelCategory'
    }
}
