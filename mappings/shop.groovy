// The Groovy twin of mappings/shop.py, as a Divolte user would have written it: the collector runs
// Divolte's .groovy mappings unchanged, and both files fill schemas/ShopEvent.avsc identically.
//   divolte-collector mapping-test --schema schemas/ShopEvent.avsc --mapping mappings/shop.groovy --event event.json
//   divolte-collector convert-mapping mappings/shop.groovy     # prints the Python version

mapping {
    map timestamp() onto 'timestamp'
    map partyId() onto 'partyId'
    map sessionId() onto 'sessionId'
    map pageViewId() onto 'pageViewId'
    map eventType() onto 'eventType'
    map firstInSession() onto 'firstInSession'

    // Parts of the page URL. A malformed URL leaves these unset.
    def url = parse location() to uri
    map url.host() onto 'host'
    map url.path() onto 'path'
    map url.query().value('q') onto 'searchTerm'
    map url.query().value('utm_source') onto 'utmSource'
    map url.query().value('utm_campaign') onto 'utmCampaign'

    // /<category>/<product id>.html, e.g. /shoes/p-123.html
    def productPage = match /^\/(?<category>[a-z-]+)\/(?<product>p-[0-9]+)\.html$/ against url.path()
    when productPage.matches() apply {
        map productPage.group('category') onto 'category'
        map productPage.group('product') onto 'productId'
    }

    map header('Accept-Language').first() onto 'language'
    map userAgent().family() onto 'browser'
    map userAgent().deviceCategory() onto 'deviceCategory'
    map cookie('ab_experiment') onto 'experiment'

    // Custom event parameters, e.g. divolte.signal('addToBasket', {sku: 'A-1', price: 12.5, tags: [...]})
    def params = eventParameters()
    map params.value('sku') onto 'sku'
    map params.path('$.price') onto 'price'
    map params.path('$.tags') onto 'tags'
    map params.path('$.basket') onto 'basket'

    // Pseudonymise an e-mail address sent as a parameter: a seeded (keyed) digest, never the address itself.
    when params.path('$.email').isPresent() apply {
        map digest('SHA-256', 'change-this-secret').add(params.value('email')).result().toHexLower() onto 'hashedEmail'
    }

    when corrupt().or(duplicate()) apply {
        map true onto 'suspicious'
    }
}
