// Sections, exit() and stop(): first-match-wins blocks, the shorthands, and the closure-taking spellings.
mapping {
    map 'start' onto 'queryparam'
    section {
        def locationUri = parse location() to uri
        def path = locationUri.path()
        when path.equalTo('/') apply {
            map 'home' onto 'contentPage'
            exit()
        }
        when matcher(path, '^/path/with/.*').matches() apply {
            map 'article' onto 'contentPage'
            exit()
        }
        map 'other' onto 'contentPage'
    }
    section {
        when referer().isAbsent() exit()
        map referer() onto 'referer'
        exitWhen(referer().equalTo('http://example.com/'))
        map 'not the example referer' onto 'refererProtocol'
    }
    section({
        map 'in a section closure' onto 'client'
        when(eventParameters().path('$.items').isPresent(), {
            map 'has items' onto 'session'
            exit()
        })
        map 'no items' onto 'session'
    })
    when corrupt() stop()
    map('pageview', 'not corrupt')
    section {
        when location().isAbsent() apply {
            stop()      // ends the whole mapping, not only the section
        }
    }
    map 'reached the end' onto 'event'
    exit()              // outside any section: ends the mapping
    map 'never' onto 'customCookie'
}
