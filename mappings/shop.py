# An example mapping onto schemas/ShopEvent.avsc: URL parts, query parameters, headers, cookies, custom event
# parameters, and routing decisions. Run it against hand-written events with:
#   divolte-collector mapping-test --schema schemas/ShopEvent.avsc --mapping mappings/shop.py --event event.json
# The DSL's names (map_, when, location(), ...) are predefined in mapping files; see README "Custom mappings".

map_(timestamp()).onto("timestamp")
map_(partyId()).onto("partyId")
map_(sessionId()).onto("sessionId")
map_(pageViewId()).onto("pageViewId")
map_(eventType()).onto("eventType")
map_(firstInSession()).onto("firstInSession")

# Parts of the page URL. Parsing is as strict as Divolte's (java.net.URI): a malformed URL leaves these unset.
url = parse(location()).to("uri")
map_(url.host()).onto("host")
map_(url.path()).onto("path")
map_(url.query().value("q")).onto("searchTerm")
map_(url.query().value("utm_source")).onto("utmSource")
map_(url.query().value("utm_campaign")).onto("utmCampaign")

# /<category>/<product id>.html, e.g. /shoes/p-123.html
product_page = match(r"^/(?<category>[a-z-]+)/(?<product>p-[0-9]+)\.html$").against(url.path())
with when(product_page.matches()):
    map_(product_page.group("category")).onto("category")
    map_(product_page.group("product")).onto("productId")

map_(header("Accept-Language").first()).onto("language")
map_(userAgent().family()).onto("browser")
map_(userAgent().deviceCategory()).onto("deviceCategory")
map_(cookie("ab_experiment")).onto("experiment")

# Custom event parameters, e.g. divolte.signal('addToBasket', {sku: 'A-1', price: 12.5, tags: [...], basket: [...]})
params = eventParameters()
map_(params.value("sku")).onto("sku")
map_(params.path("$.price")).onto("price")
map_(params.path("$.tags")).onto("tags")
map_(params.path("$.basket")).onto("basket")

# Pseudonymise an e-mail address sent as a parameter: a seeded (keyed) digest, never the address itself.
with when(params.path("$.email").isPresent()):
    map_(digest("SHA-256", "change-this-secret").add(params.value("email")).result().toHexLower()).onto("hashedEmail")

with when(corrupt().or_(duplicate())):
    map_(True).onto("suspicious")
