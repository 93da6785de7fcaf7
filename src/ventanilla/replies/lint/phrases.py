"""Phrase lists the rules match against the folded reply (lower-case, no accents).

Each list is written as general patterns of how a phrase is built (who does what), not as the
sentences of our labelled set. Spanish and English lists are both applied to every reply, so a
mixed-language reply is still read in full.
"""

from __future__ import annotations

from ventanilla.replies.lint.phrase_set import PhraseSet


def _compile(patterns: list[str]) -> PhraseSet:
    return PhraseSet(patterns)


# -- rudeness: insults, dismissal, sarcasm and condescension -------------------------------------
RUDENESS_ES = [
    r"\b(?:pesad[oa]s?|quejic[oa]s?|idiotas?|imbeciles?|estupid[oa]s?|tont[oa]s?|inutiles?|"
    r"ignorantes?|payas[oa]s?|cansin[oa]s?|maleducad[oa]s?|tonterias)\b",
    r"\bdej[ae]n? de (?:quejar|protestar|molestar|llorar|escribir)",
    r"\bsi no (?:le|te|les) gusta",
    r"\b(?:vay[ae]se|vete|irse|puede ir|puedes ir|vaya|vayan) a (?:otra|la competencia|otro sitio)",
    r"\b(?:tranquilicese|tranquilizate|calmese|calmate|relajese|relajate|calma, por favor)\b",
    r"\bno (?:hace falta|es necesario) (?:ponerse|gritar|ser tan|escribir en ese tono)",
    r"\bno es para tanto\b",
    r"\bsi usted lo dice\b|\bsi tu lo dices\b",
    r"\bja(?:ja)+\b|\bja ja\b|\bxd\b|\blol\b",
    r"\bque (?:sorpresa|novedad)\b",
    r"\botra vez usted\b|\busted otra vez\b|\bya estamos otra vez\b",
    r"\bcomo ya (?:le|te|les|se lo|se la) (?:hemos |habiamos )?"
    r"(?:dijimos|explicamos|indicamos|comentamos|dicho|explicado|indicado|comentado|"
    r"contestamos|repetimos|repetido|informamos|informado)",
    r"\bya (?:le|te|les|se lo) (?:hemos |habiamos )?"
    r"(?:dicho|explicado|indicado|comentado|repetido|contestado|informado)",
    r"\b(?:le|te|les) (?:repetimos|repito|recordamos|recuerdo|insistimos|decimos)"
    r",? (?:de nuevo|otra vez|una vez mas|por (?:tercera|enesima|ultima|cuarta|milesima) vez)",
    r"\b(?:una vez mas|de nuevo|otra vez),? (?:le|te|les) (?:repetimos|repito|recordamos|decimos)",
    r"\b(?:le|te|les) (?:repetimos|repito|vuelvo a repetir|volvemos a repetir|volvemos a decir) que\b",
    r"\b(?:pero|y),? (?:una vez mas|otra vez),? (?:su|el|la|le|usted|tu)\b",
    r"\bpor (?:tercera|cuarta|quinta|enesima|ultima|milesima|decima) vez\b",
    r"\bno (?:vamos a|pensamos) (?:repetir|perder (?:mas )?tiempo|volver a explicar)",
    r"\bcon (?:todo|el debido) (?:el )?respeto\b",
    r"\bno (?:lo )?(?:entiende|entiendes|ha entendido|has entendido|comprende|comprendes)\b",
    r"\bque parte de\b.{0,40}\bno\b",
    r"\b(?:es|resulta) (?:evidente|obvio) que\b|\bobviamente\b|\bevidentemente\b",
    r"\bcualquier(?:a| persona| cliente)\b.{0,40}\b(?:sabe|entiende|puede|habria)",
    r"\bsentido comun\b",
    r"\bparece mentira\b|\ba estas alturas\b",
    r"\baprend[ae] a (?:leer|usar|utilizar|escribir)\b|\bsi (?:supiera|sabe|supieras|sabes) leer\b",
    r"\blea (?:bien|con (?:mas )?atencion|despacio|el contrato|las condiciones)",
    r"\bantes de escribir en ese tono\b|\ben ese tono\b|\bantes de (?:escribir|quejarse|protestar|"
    r"comentar|publicar)\b",
    r"\btan (?:constructiv[oa]|amable|educad[oa]|simpatic[oa]) como siempre\b",
    # condescension: how easy it is, who could do it, what they cannot manage
    r"\bno es tan (?:dificil|complicad[oa])\b(?! como)|\bno (?:tiene|hay) (?:ningun|mucho|tanto) misterio\b",
    r"\bno (?:hay que|hace falta) ser (?:ingenier|un genio|una genia|informatic|un lince|muy list)",
    r"\b(?:lo hace|lo haria|lo sabe|lo entiende|te lo explica|se lo explica) (?:hasta|cualquier) "
    r"(?:mi |un |una |cualquier )?(?:abuel|nin|adolescente|crio|chaval)",
    r"\bcualquier (?:adolescente|nino|nina|crio)\b",
    r"\b(?:muy despacio|despacito)\b|\bcon palabras sencillas\w* para que\b|\bpara que lo pilles\b",
    r"\bno (?:son|es) lo (?:suyo|tuyo)\b|\b(?:te|le) superen\b",
    r"\balguien mas joven\b",
    # exasperated repetition
    r"\bmil veces\b|\ba ver si (?:esta vez|ahora) (?:si|lo)\b",
    r"\bpor si no (?:le |te )?(?:quedo|ha quedado) claro\b|\bya lo hemos hablado\b",
    r"\b(?:le|te) (?:pedimos|rogamos) que (?:esta vez|por una vez)\b",
    # drama, tone policing, minimising
    r"\b(?:cuanto|tanto|menudo|vaya|que) (?:drama|dramatismo|escandalo|espectaculo|berrinche)\b",
    r"\bdramatizar\b|\bbaj[ae] el tono\b|\b(?:para|en) poner(?:se|te) asi\b",
    r"\bno (?:sera|es) el fin del mundo\b|\bhay (?:cosas|retrasos|problemas) peores\b",
    r"\bno (?:hacia|hace) falta (?:montar|hacer un hilo|escribir (?:diez|cada|tantas))",
    r"\bque poca paciencia\b|\bpor la poca que\b",
    # sarcasm and irony
    r"\bque (?:original|casualidad)\b|\bmenudo descubrimiento\b|\bnos hace gracia que\b",
    r"\benhorabuena,? (?:has|ha) (?:descubierto|encontrado)\b|\benhorabuena,? (?:eres|es usted) (?:la|el) "
    r"(?:primer|unic)",
    r"\b(?:le|te) felicitamos(?::|,)? (?:ha|has) (?:encontrado|descubierto)\b",
    r"\bse nota que (?:eres|es usted) (?:todo|toda|un|una|muy)\b|\bse nota que no (?:has|ha) (?:visto|leido|mirado)",
    r"\botr[oa] expert[oa]\b|\bcon lo list[oa] que\b",
    r"¿content[oa]s?\?",
    # their time, our other customers
    r"\b(?:nos|hacernos) (?:hace|haga|hagas|hacer|haces) perder (?:el |mas |nuestro )?tiempo\b",
    r"\bno (?:es|eres) (?:usted |tu )?(?:nuestr[oa]|el|la) unic[oa] client",
    r"\bclientes con problemas de verdad\b|\btanto tiempo libre\b|\bno tienes otra cosa que hacer\b",
    # dismissal
    r"\bya sabes donde esta la puerta\b|\bcada uno ve lo que quiere\b|\bque mania con\b",
    r"\bhay gente que se queja\b|\bse queja(?:n)? (?:de|por) todo\b|\bquejarse se (?:te|le) da\b",
    r"\bque esperaba(?:s)? por ese precio\b|\bno sabemos (?:muy bien )?que esperaba",
    # reproaches about reading or paying attention
    r"\besta vez prestando atencion\b|\bque para eso (?:lo|la|los|las) (?:publicamos|ponemos|tenemos)\b",
    r"\blea(?:s)? (?:la guia |el correo |el manual )?hasta el final\b",
    # polite-sounding wrappers of a put-down
    r"\bsin animo de (?:ofender|polemizar|molestar)\b|\bno (?:te|se) ofenda(?:s)?,? pero\b",
    r"\b(?:con todo el carino|te lo decimos con carino|se lo decimos con carino)\b",
    "\U0001F644",
    # more put-downs dressed as politeness: doubts about the customer, mock praise, "for you"
    r"\bseguro que sabe(?:s)? (?:encender|usar|leer|lo que)\b",
    r"\b(?:tiene(?:s)?|menuda) (?:usted )?(?:mucha )?imaginacion\b",
    r"\bno lo vamos a cambiar por (?:usted|ti)\b|\brelativizar\b|\b(?:otro|otra) \w+ (?:mas )?de los suyos\b",
    r"\bal otro lado de la pantalla\b|\bexpectativas tan\b",
    r"\b(?:usted|tu) lo (?:habria|hubiera) hecho mejor\b|\bno muerde\b|\bqueja numero\b",
    r"\bya que insiste(?:s)?\b|\bpor mucho que nos cueste\b|\bnos cuesta entender como\b",
    r"\bno (?:se ha|te has) molestado en\b|\bclaro, porque\b|\b(?:un poco|algo|muy) infantil(?:es)?\b",
    r"\bpoco informad[oa]\b|\bno (?:esta|estamos) para aguantar\b|\bde principiante\b",
    r"\bno todo el mundo tiene buen\b|\bcuanta prisa\b|\bque serias tu\b|\bque seria usted\b",
    r"\bpasaras menos tiempo\b|\bpasara menos tiempo\b|\bque,? por una vez\b",
]
RUDENESS_EN = [
    r"\b(?:idiots?|stupid|morons?|dumb|pathetic|clueless|whiny|whinge\w*|moaner)\b",
    r"\bstop (?:complaining|moaning|whining|crying|messaging|posting)",
    r"\bif you don't like (?:it|our|the|this)",
    r"\b(?:go|take your business|shop) elsewhere\b",
    r"\bcalm down\b|\bchill out\b|\brelax,",
    r"\bno need to (?:shout|get (?:so )?(?:angry|worked up)|be rude|use that tone)",
    r"\b(?:that )?tone\b.{0,20}\bwon't\b|\bin that tone\b",
    r"\bif you say so\b",
    r"\b(?:lol|lmao|rofl)\b|\bha(?:ha)+\b",
    r"\bwhat a surprise\b|\bsurprise, surprise\b",
    r"\b(?:oh,? )?you again\b",
    r"\bas (?:we|i) (?:have |had )?(?:already|previously) (?:told|explained|said|mentioned|"
    r"stated|informed)",
    r"\bas (?:we|i) (?:have |had )?(?:told|explained to|informed) you\b",
    r"\b(?:we|i)(?:'ve| have)? already (?:told|explained|said|mentioned|answered|informed)",
    r"\b(?:once again|yet again|again),? (?:we|i) (?:repeat|remind|tell|say)",
    r"\b(?:but|and),? (?:once again|yet again),? (?:your|you|the|it|this)\b",
    r"\bbefore (?:posting|writing|complaining|commenting)\b",
    r"\bfor the (?:third|fourth|fifth|hundredth|umpteenth|last|nth|tenth|millionth) time\b",
    r"\b(?:we are|we're) not (?:going to|gonna) (?:repeat|explain|waste)",
    r"\bwith (?:all )?due respect\b",
    r"\byou (?:don't|do not|didn't|did not|clearly don't) (?:seem to )?(?:understand|get it)\b",
    r"\bwhich part of\b.{0,40}\bdidn't\b",
    r"\b(?:clearly|obviously) you\b|\bobviously\b",
    r"\b(?:anyone|anybody|any (?:adult|customer|person))\b.{0,40}\b(?:knows|can|could|would)\b",
    r"\bcommon sense\b",
    r"\bhard to believe\b|\bin this day and age\b",
    r"\blearn (?:to|how to) (?:read|use)\b|\bif you could read\b|\bcan't you read\b",
    r"(?:^|[.!?:;]\s*|@\w+\s+)read (?:it )?(?:properly|carefully|more carefully|the (?:\w+ )?"
    r"(?:contract|terms|conditions|small print|instructions))",
    r"\b(?:constructive|helpful|kind|polite) as (?:always|ever)\b",
    r"\bthanks for nothing\b",
    # condescension: how easy it is, who could do it, what they cannot manage
    r"\b(?:isn't|is not|aren't|are not|not) (?:that|so|really that|exactly) (?:hard|difficult|complicated)\b"
    r"(?! as)",
    r"\breally (?:isn't|is not|aren't) (?:hard|difficult|complicated)\b|\brocket science\b",
    r"\b(?:don't|do not) need (?:a|an) \w+ degree\b|\b(?:even|any) (?:a )?(?:child|kid|teenager|toddler)\b",
    r"\bnice and slowly\b|\bvery slowly\b|\bin (?:simple|small) words so\b|\buse small words\b",
    r"\bshort and simple so\b",
    r"\ba bit much for you\b|\bsomeone younger\b",
    # exasperated repetition
    r"\ba thousand times\b|\bsee if it sticks\b|\bsince it seems to need saying\b",
    r"\bin case it wasn't clear\b|\bwhich you (?:evidently|clearly|obviously|apparently) "
    r"(?:skipped|missed|ignored)\b",
    r"\bapparently went unread\b|\bto the end before\b",
    # drama, tone policing, minimising
    r"\b(?:so much|such a|what a|all this|all that) (?:drama|fuss)\b|\bbeing (?:so )?dramatic\b",
    r"\bless dramatic\b|\bmake a (?:public )?spectacle\b|\blower your voice\b|\bget a grip\b",
    r"\b(?:hardly|not) the end of the world\b|\bworse things in life\b",
    r"\bso little patience\b|\bwhat little there is\b",
    # sarcasm and irony
    r"\bhow original\b|\bbig discovery\b|\bfunny how\b|\bfancy seeing you\b|\bwhat a shock\b",
    r"\bcongratulations[,:]? you(?:'ve| have|'re| are) (?:the (?:first|only)|found|discovered)\b",
    r"\b(?:quite the|another) \w+ expert\b|\bfor someone so (?:clever|smart)\b",
    r"\bbless you\b|\bhappy now\?",
    # their time, our other customers
    r"\bwast(?:e|ing) (?:our|my|everyone's) time\b|\bour only customer\b",
    r"\bcustomers with real problems\b|\bplenty of free time\b|\bwait your turn\b|\bmind readers\b",
    # dismissal
    r"\bwhere the door is\b|\bpeople see what they want\b|\bcomplain about anything\b",
    r"\bcomplaining (?:certainly |clearly )?comes naturally\b|\bdoesn't revolve around\b",
    r"\bwhat (?:did )?you expect(?:ed)? for\b|\bnot sure what you expected\b",
    # reproaches about reading or paying attention
    r"\bthis time paying attention\b|\bthere for a reason\b|\bthat's what it's (?:published|there) for\b",
    # polite-sounding wrappers of a put-down
    r"\bno offen[cs]e,? but\b|\bwithout wishing to (?:argue|offend)\b|\bwith love:|\bfriendly tip:",
    "\U0001F644",
    # more put-downs dressed as politeness: doubts about the customer, mock praise, "for you"
    r"\bare you sure you know how\b|\bvivid imagination\b|\bnot changing it for you\b",
    r"\bone of your comments\b|\bother side of the screen\b|\brather special expectations\b",
    r"\byou(?:'d| would) have done it better\b|\bdon't bite\b",
    r"\b(?:\w+th|second|third) complaint this\b|\bsince you insist\b|\bstruggle to see how\b",
    r"\b(?:hasn't|haven't) (?:even )?bothered to\b|\bsure, because\b|\bchildish\b|\bpoorly informed\b",
    r"\bnot paid to put up with\b",
    r"\bbeginner's mistake\b|\bnot everyone has an eye\b|\bwhat a hurry\b",
    r"\bit would be you\b|\bspent less time\b|\b(?:if|to),? for once\b",
]

# -- blaming the customer / arguing / denying responsibility -------------------------------------
_CUSTOMER_ACTS_ES = (
    r"(?:leido|revisado|comprobado|mirado|consultado|facturado|pedido|preguntado|avisado|"
    r"actualizado|elegido|introducido|guardado|seguido|hecho caso|tenido cuidado|llamado|"
    r"reservado|pagado|leer|revisar|comprobar|mirar|consultar|informarse|fijarse)"
)
BLAMING_ES = [
    r"\b(?:usted|tu|vd|ud)\b.{0,12}\b(?:deberia|debio|debia|tenia que|tendria que|podria)"
    r"(?:s)? haber",
    r"\b(?:deberias|tenias que|tendrias que|debiste|debias) haber",
    r"\b(?:deberia|debio|debia|tenia que|tendria que) haber(?:se)? " + _CUSTOMER_ACTS_ES,
    r"\bsi (?:usted |tu )?(?:hubiera|hubieras|hubiese|hubieses) (?:llegado|"
    + _CUSTOMER_ACTS_ES[3:],
    r"\b(?:es|era|fue) (?:su|tu) (?:responsabilidad|culpa|error|problema)\b",
    r"\b(?:la )?responsabilidad\b.{0,40}\b(?:es|era) (?:del cliente|suya|tuya|de usted)",
    r"\bel (?:error|fallo) (?:fue|es) (?:suyo|tuyo|de usted)",
    r"\bla culpa (?:es|fue|la tiene) (?:suya|tuya|de usted)",
    r"\bno (?:es|fue) (?:culpa|responsabilidad) (?:nuestra|de la empresa|de nadie mas)",
    r"\bno (?:es|fue) nuestra (?:culpa|responsabilidad)",
    r"\bno (?:somos|nos hacemos) responsables\b|\bno podemos hacernos (?:cargo|responsables)",
    r"\beso (?:le|te|les) pasa por\b",
    r"\b(?:usted|tu) no (?:siguio|seguiste|leyo|leiste|reviso|revisaste|comprobo|comprobaste|"
    r"hizo caso|hiciste caso|actualizo|actualizaste)",
    r"\b(?:como|porque|ya que) (?:usted|tu) (?:no |uso |usaste |eligio |elegiste |olvido |"
    r"olvidaste |ignoro |ignoraste |instalo |puso |pusiste )",
    r"\blo (?:logico|normal|suyo|sensato) (?:habria|hubiera) sido\b",
    r"\b(?:indicaba|decia|ponia|especificaba|avisaba|advertia|explicaba) (?:bien )?claramente\b",
    r"\bclaramente (?:indicad|especificad|explicad|sen?alad)[oa]",
    r"\b(?:las condiciones|el contrato) que (?:usted )?(?:acepto|aceptaste|firmo|firmaste)",
    r"\blea (?:las condiciones|el contrato)\b",
    r"\bsi (?:supiera|supieras|sabe|sabes) leer\b",
]
BLAMING_EN = [
    r"\byou (?:should|could|ought to)(?: really)? have\b",
    r"\byou shouldn't have\b|\byou (?:needed|were supposed|had) to\b",
    r"\bif you(?:'d| had) (?:read|checked|looked|followed|arrived|updated|asked|booked|paid|"
    r"listened|been)",
    r"\bhad you (?:read|checked|looked|followed|arrived|updated|asked|booked|paid|been)",
    r"\b(?:it's|it is|it was|that's|that is|was) (?:entirely |all )?your (?:own )?"
    r"(?:responsibility|fault|mistake|problem|error)",
    r"\b(?:the )?(?:customer's|customers') (?:responsibility|fault|mistake)",
    r"\bthe (?:mistake|error|fault) (?:was|is) (?:yours|your own)",
    r"\bnot our (?:fault|responsibility|problem)\b",
    r"\bwe (?:can't|cannot|can not) be (?:held )?(?:responsible|liable)|\bwe are not (?:responsible|"
    r"liable)|\bwe're not (?:responsible|liable)",
    r"\bthat's what happens when you\b",
    r"\byou (?:didn't|did not|failed to) (?:follow|read|check|update|enter|keep|listen)",
    r"\b(?:since|because|as) you (?:didn't|did not|used|chose|forgot|ignored|failed|entered|"
    r"picked|selected|installed)",
    r"\bthe (?:sensible|logical|normal|right) thing (?:would have been|was)\b",
    r"\b(?:it|the \w+)? ?clearly (?:said|says|stated|states|explained|explains|indicated|"
    r"showed|shows)",
    r"\b(?:the )?terms (?:and conditions )?you (?:accepted|agreed|signed)",
    r"(?:^|[.!?:;]\s*|@\w+\s+)read (?:the|our) (?:\w+ )?(?:contract|terms|conditions|small print)\b",
    r"\bif you could read\b",
    r"\byou chose the\b",
]

# -- justifying instead of apologising -----------------------------------------------------------
JUSTIFYING_ES = [
    r"\bes que\b",
    r"\bdebid[oa]s? a\b|\bse deb(?:e|en|io|ieron|ia) a\b|\ba causa de\b|\bpor culpa de\b",
    r"\bcausas? ajenas?\b|\bajen[oa]s? a (?:nosotros|nuestra|la empresa)",
    r"\bfuera de nuestro (?:control|alcance)\b",
    r"\b(?:mucha|muchisima|gran|alta|enorme) demanda\b|\bdemanda\b.{0,30}\b(?:habitual|normal)\b",
    r"\bestamos (?:desbordados|saturados|colapsados)\b|\bno (?:da|damos|dan) abasto\b",
    r"\bla culpa (?:es|fue|la tiene|la tuvo) (?:de|del|la|el)\b",
    r"\b(?:provocad|causad|originad|ocasionad)[oa]s? por\b",
    r"(?<!disculpas )(?<!perdon )(?<!perdona )(?<!sentimos )(?<!lamentamos )"
    r"\bpor (?:la|una|el|un) (?:huelga|tormenta|nevada|temporal|accidente)\b",
    r"\b(?:vino|viene|venia) de un (?:fallo|error|problema)",
    r"\bpor eso (?:tardamos|tardo|no pudiste|no pudo|no llego|se retraso|se cancelo|fue|hubo)",
    r"\b(?:nuestro|el) proveedor\b.{0,30}\b(?:fallo|tuvo|nos envio|envio|se retraso)",
    r"\b(?:la|nuestra) (?:empresa de )?mensajeria tuvo\b",
    r"\b(?:la carretera|el trafico|la autopista) (?:estaba|esta)\b",
    r"\bcondiciones (?:meteorologicas|climatologicas)\b",
    r"\bmedia plantilla\b|\bfalta de personal\b|\bde baja\b|\bde vacaciones\b",
    r"\bel sistema se cayo\b|\bse cayo el sistema\b",
    r"\b(?:fue|ha sido) (?:por|culpa de)\b",
]
JUSTIFYING_EN = [
    r"\bdue to\b|\bowing to\b|\bbecause of\b|\bcaused by\b|\bas a result of\b",
    r"\bbeyond our control\b|\bout of our hands\b|\boutside our control\b",
    r"\b(?:high|higher|unusually high|huge|heavy|record) (?:demand|volumes?)\b",
    r"\bdemand (?:has been|was)\b",
    r"\b(?:swamped|overwhelmed|understaffed|short-staffed|short staffed)\b|\bcan't keep up\b",
    r"\b(?:was|were|are) (?:on holiday|off sick|on strike)\b",
    r"\bwhich is why\b|\bthat's why\b|\bthe reason (?:is|was)\b",
    r"\b(?:it was|this was) the \w+(?:'s|s')? (?:fault|roadworks|strike|weather)",
    r"\b(?:came|comes) from a (?:glitch|fault|bug|problem|error)",
    r"\b(?:supplier|courier|provider|distributor|council)(?:'s|s'|s)? (?:sent|had|was|were|failed|"
    r"fault|roadworks|network)",
    r"\bbecause (?:our|the|a|an|there was|we had|we were)\b",
    r"\bweather conditions\b|\bthe storm\b|\broadworks\b",
    r"\b(?:gridlocked|traffic jam)\b",
    r"\bthe system went down\b",
]

# -- promises nobody can keep ----------------------------------------------------------------------
IMPOSSIBLE_PROMISE_ES = [
    r"\bnunca mas\b",
    r"\b(?:nunca|jamas) (?:volver|se repetir|ocurrir|pasar|fallar|tendr|sucede)",
    r"(?<!para que )(?<!para que esto )\bno (?:volvera|volveran|volveras|va a volver) a "
    r"(?:pasar|ocurrir|suceder|repetirse|fallar|tener|quedar|sufrir)",
    r"\bno se (?:repetira|volvera a (?:repetir|producir))\b",
    r"\b(?:garantiza|asegura|promete|jura)(?:mos|n)?\b.{0,25}\b(?:100 ?%|al cien por cien|"
    r"totalmente|absolutamente|al 100)",
    r"\b(?:al )?(?:100 ?%|cien por cien\b).{0,40}\b(?:garantiz|asegur|promet)",
    r"\b(?:sera|es) la ultima vez\b",
    r"\bsin (?:un solo|ningun|ni un) (?:corte|fallo|error|problema|retraso)",
    r"\b(?:a partir de ahora|desde (?:hoy|ahora)) (?:todos|todas|siempre|nunca|ningun)",
    r"\b(?:todos|todas) (?:los|las|nuestros|nuestras) \w+ (?:llegaran|saldran|funcionaran|seran) "
    r"(?:perfect|puntual|a tiempo|sin)",
    r"\bsiempre (?:llegara|funcionara|saldra|estara)",
    r"\ben \d+ minutos?,? palabra\b|\bpalabra de honor\b",
    r"\bfuncionara perfectamente\b",
]
IMPOSSIBLE_PROMISE_EN = [
    r"\bnever again\b",
    r"\b(?:will|'ll|shall) never (?:happen|occur|break|fail|lose|be|have|go|experience|see)",
    r"(?<!so )(?<!so that )(?<!to make sure )\b(?:won't|will not) (?:ever )?(?:happen|occur|"
    r"break|fail) again\b",
    r"\b(?:100 ?%|one hundred (?:percent|per cent)\b|a hundred (?:percent|per cent)\b)",
    r"\bwe (?:can )?(?:guarantee|swear)\b|\bguaranteed\b",
    r"\b(?:is|will be) the last time\b",
    r"\bwithout a single (?:drop|fault|issue|problem|delay|cut)",
    r"\bfrom (?:now on|today|this day)\b.{0,30}\b(?:every|all|always|never|no more)\b",
    r"\bevery (?:one of our )?\w+ will (?:leave|arrive|work|be)\b.{0,20}"
    r"(?:on time|perfect|flawless)",
    r"\bwill always (?:arrive|work|be on time|leave on time)",
    r"\bwe (?:can )?assure you\b.{0,40}\b(?:never|every|always|no more)\b",
]

# -- care: thanks, apology, empathy; and the canned apologies that do not count -------------------
CARE_ES = [
    r"\bgracias\b|\bagradec",
    r"\bperdon|\bdisculp|\blo sentimos\b|\bsentimos\b|\blo siento\b|\bsiento\b|\blamentamos\b|"
    r"\blo lamento\b|\bmil perdones\b",
    r"\bentendemos\b|\bentiendo\b|\bcomprendemos\b|\bcomprendo\b|\btienes (?:toda la )?razon\b|"
    r"\btiene (?:toda la )?razon\b|\bte entendemos\b",
    r"\bque (?:rabia|pena|faena|fastidio|disgusto|mala suerte|mal rato)\b|\bvaya (?:disgusto|faena|"
    r"mala suerte)\b|\buf\b",
    r"\bnos (?:sabe (?:mal|fatal)|duele|preocupa)\b",
    r"\bno es (?:lo que (?:esperabas|esperaba|mereces|merece|queremos)|normal|el servicio|"
    r"la experiencia|aceptable)\b",
]
CARE_EN = [
    r"\bthank|\bthanks\b|\bappreciate\b|\bgrateful\b",
    r"\bsorry\b|\bapolog|\bforgive\b|\bregret\b",
    r"\bunderstand\b|\byou're right\b|\byou are right\b|\bwe hear you\b|\bwe get (?:why|it)\b",
    r"\bhow (?:annoying|frustrating|disappointing|upsetting)\b|\bwhat a (?:letdown|shame|pain|"
    r"nuisance)\b|\bbad luck\b|\bugh\b",
    r"\bwe feel (?:awful|terrible|bad)\b|\bwe're (?:concerned|gutted)\b|\bpainful to read\b",
    r"\bthat's not (?:the|what|how)\b|\bisn't (?:acceptable|normal|the experience)\b",
]
CANNED_ES = [
    r"\b(?:lamentamos|sentimos|disculpe|disculpen|rogamos disculpe|pedimos disculpas por|"
    r"lamentamos profundamente) (?:las|cualquier|los|todas las) (?:molestias|inconvenientes?)"
    r"(?: (?:que (?:esto |le |les )?(?:le |les )?(?:hayamos|haya|hayan) (?:podido )?"
    r"(?:ocasionar|causar)(?:le)?|ocasionad[oa]s|causad[oa]s))?",
    r"\b(?:disculpe|disculpen) las molestias\b",
]
CANNED_EN = [
    r"\b(?:we )?(?:apologi[sz]e|are sorry|'re sorry|sorry|regret)(?: for)? (?:any|the) "
    r"(?:inconvenience|trouble caused|disruption)(?: (?:this|that|it) (?:may|might) have caused"
    r"(?: you)?| caused)?",
]

# -- next step and time commitment ------------------------------------------------------------------
ACTION_ES = [
    r"\bescrib(?:e|a|an|enos|anos|ame|eme|imos|iremos|ire)\b|\bte (?:hemos |he )?(?:escrito|"
    r"enviado|mandado)\b|\brespondenos\b|\bcuentanos\b|\bcuentenos\b",
    r"\b(?:envia|envie|manda|mande|envian|mandan)(?:nos|me)\b|\bllamanos\b|\bllamenos\b",
    r"\b(?:te|le|les|os) (?:llamamos|llamaremos|llamara|escribimos|contestamos|respondemos|"
    r"responderemos|contestaremos|contactamos|contactaremos|confirmamos|confirmaremos|decimos|"
    r"diremos|enviamos|mandamos|devolvemos|llevamos|damos|daremos|proponemos|ofrecemos|"
    r"gestionamos|ayudamos|cambiamos|contesta|responde|llama|avisamos|avisaremos|mando)\b",
    r"\b(?:mensaje (?:directo|privado)|por (?:dm|md|privado|messenger|correo|whatsapp|telefono|"
    r"mensaje)|formulario)\b",
    r"\b(?:revisamos|revisaremos|tramitamos|hemos tramitado|reembolsamos|reenviamos|enviamos|"
    r"cambiamos|gestionamos|arreglamos|solucionamos|resolvemos|devolvemos|mandamos|llevamos|"
    r"hemos (?:anulado|corregido|reservado|hecho|enviado|devuelto|cambiado|arreglado|procesado))\b",
    r"\b[a-zñ]{3,}(?:aremos|eremos|iremos)\b",
    r"\b(?:llegara|llegaran|llega|llegan|ira|iran|pasara|estara|estaran|tendras|tendra|recibiras|"
    r"recibira|veras|vera|vuelve|sale|saldra|recoge)\b",
    r"\bya (?:tienes|tiene|esta|estan) (?:la|el|hecho|hecha|restablecido|corregid)",
    r"\b(?:te|le|se|os) (?:lo|la|los|las) [a-zñ]{3,}(?:an|en|amos|emos|imos)\b",
    r"\b(?:hasta que|cuando) (?:llegue|pase|vaya|venga)\b",
]
ACTION_EN = [
    r"\bdm\b|\bdmed\b|\bdming\b|\bdirect message\b|\bmessag(?:e|ed|ing)\b|\bprivately\b",
    r"\b(?:email|e-mail|call|text|write to|contact|reply|get back|drop us|send us|tell us|"
    r"let us know)\b",
    r"\b(?:we(?:'ll| will)|i(?:'ll| will)|you(?:'ll| will)|it(?:'ll| will)|they(?:'ll| will)|"
    r"(?:he|she)(?:'ll| will))\b",
    r"\bwill (?:arrive|come|visit|be|reply|call|send|confirm|refund|contact)\b",
    r"\b(?:we're|we are|we've|we have) (?:sending|refunding|dming|messaging|calling|booked|sent|"
    r"refunded|processed|cancelled|replaced|opened|fixed|corrected|emailed|messaged)\b",
    r"\b(?:refund|refunded|arrives?|ships?|returns?|collect|deliver(?:ed|y)?|has been "
    r"(?:refunded|fixed|corrected|processed))\b",
    r"\bhave it sorted\b|\bhave (?:an|the) answer\b|\bhear (?:back|from us)\b",
]
TIME_ES = [
    r"\b\d+(?:[.,]\d+)?\s*(?:-|a)?\s*\d*\s*(?:h|hrs?|horas?|dias?(?: habiles| laborables)?|"
    r"min(?:utos)?|semanas?)\b",
    r"\b(?:hoy|ma[nñ]ana|esta (?:tarde|noche|ma[nñ]ana|semana|misma tarde)|ahora mismo|ahora)\b",
    r"\b(?:el|este|antes del|hasta el|del) (?:lunes|martes|miercoles|jueves|viernes|sabado|"
    r"domingo)\b",
    r"\b(?:antes|despues) de (?:las|que|ma[nñ]ana|\d)|\ba las \d|\bentre las \d",
    r"\ben (?:un|una|menos de una?) (?:hora|momento)\b|\ba lo largo del dia\b|\bmismo dia\b",
    r"\bplazo (?:de|maximo)\b|\ben menos de\b|\bdentro de\b",
    r"\b\d{1,2}:\d{2}\b",
]
TIME_EN = [
    r"\b\d+(?:[.,]\d+)?\s*(?:-|to)?\s*\d*\s*(?:h|hrs?|hours?|days?|working days|business days|"
    r"mins?|minutes?|weeks?)\b",
    r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b",
    r"\b(?:today|tomorrow|tonight|this (?:afternoon|evening|morning|week)|right now|now)\b",
    r"\b(?:on|by|before|this|next|until) (?:monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday)\b",
    r"\b(?:by|before) (?:noon|midday|the end of|end of)\b|\bend of (?:the )?day\b",
    r"\bwithin (?:the|an|one|\d+) ?(?:hour|day)|\bwithin\b",
    r"\bat (?:noon|midday)\b",
]

RUDENESS = {"es": _compile(RUDENESS_ES), "en": _compile(RUDENESS_EN)}
BLAMING = {"es": _compile(BLAMING_ES), "en": _compile(BLAMING_EN)}
JUSTIFYING = {"es": _compile(JUSTIFYING_ES), "en": _compile(JUSTIFYING_EN)}
IMPOSSIBLE_PROMISE = {"es": _compile(IMPOSSIBLE_PROMISE_ES), "en": _compile(IMPOSSIBLE_PROMISE_EN)}
CARE = {"es": _compile(CARE_ES), "en": _compile(CARE_EN)}
CANNED = {"es": _compile(CANNED_ES), "en": _compile(CANNED_EN)}
ACTION = {"es": _compile(ACTION_ES), "en": _compile(ACTION_EN)}
TIME = {"es": _compile(TIME_ES), "en": _compile(TIME_EN)}
