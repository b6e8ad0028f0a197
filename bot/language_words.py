"""Latin-script words that tell English, Lithuanian (typed without diacritics) and Russian and
Ukrainian in Latin letters apart, for `text.detect_language`.

Written by `python -m bot train --language-words` from the danger corpus's train split (never
its test split): for each language, the 300 words found in the most messages of that
language (at least 8) of which at least 93% of the messages holding them are
in that language. Frequent words of every kind, not only function words: "zaperli" and "norvegijoj"
are as much Russian and Lithuanian as "chto" and "ir".
"""

EN = """
    about account after again agency ago all allowed already always am an and another any
    anyone anything are ask asked at back bank beat because been before being boat boss
    brother brought but by call called came can cannot cant car card care check clients come
    company contract could cousin daughter day days debt did does dont door driver driving
    dublin each employer end english euros even evening every everything factory family farm
    fine first flat flight food for found free friend friends from gave germany get girl
    girls give go going good got guy had hand has have he her here him his hit home hotel
    hour hours house how husband if im in inside into ireland it its job just keep keeps
    kept kids kill kitchen know landlord last leave left legal like lithuania lithuanian
    live lock locked london madam made make manager me met money month months more morning
    mother mum must my near need never new next night nobody normal norway not nothing now
    number of off office old one online only open or other our out outside owe owes own
    owner paid passport passports pay pays people permit phone phones please poland police
    promised put rent report residence right room run safe said salary same say saying says
    scared school see send sent she shift shop should sign since sister site sleep so sold
    some someone son spain speak still stop supervisor take takes talk tell thank that the
    their them then there they think this three through ticket time today told tomorrow
    tonight took two until up us van very wages want wants warehouse was wash water we week
    weeks went were what when where which who will with without woman work worker workers
    working works would writing year years yesterday you young your
"""

LT = """
    aciu airijoj airijoje alga algos anglija anglijoj anglijoje ant anukas apie ar ateina
    ateme atlyginimo atvaziavau atveze auga banko bet bijau bijo bilieta bosas brigadininkas
    brolis busta buta bute buvo cia dabar danijoj dar darba darbas darbdavys darbo daryt
    daryti daugiau del diena dienas dirba dirbam dirbt dirbti dirbu dokumentu dokumentus
    draugas drauge du dukra duoda duris dvi eit esu euru gal galeciau gali galima galiu
    gavau gerai grasina grazino grizo gyvena gyvenam gyvenu iki internete ir iseit iseiti
    ispanijoj isvaziavo jai jam jau jei ji jie jiems jis jo jos ju juos jusu ka kad kada kai
    kaip kalba kam kambary kambaryje kas kazkas kazkur kelione kiek kiekviena kita kitaip
    klausiu kol kortele korteles kreiptis kur kuri kuris labai laiko laiku liepe liepia
    lietuviu lietuvoj lietuvoje lietuvos londone mamai mane manes mano menesi menesius
    mergina mes metu metus moka mus musa musu nakti namie namo namu neduoda negali negaliu
    nei neisleidzia neleidzia nemoka nera nes nezinau niekas nieko niekur noreciau nori
    noriu normalu nors norvegija norvegijoj norvegijoje nuo nuotraukas olandijoj oro padekit
    padeti paeme pagal pagalbos pamaina paprase parase parasyta pas pasa pasake pasakojo
    pasas pasieme pasiliko paskambino paskola paso pasus pati pats per pinigu pinigus pirma
    policija policijai prasau praso prie pries puse rasau raso reikia ryto rytoj sake sako
    sandely sandelyje saskaita savaite savaites savininkas savo sefas seima seimininkas
    sesuo sianakt siandien skambina skambint skola skolinga skolingas skolos statybose stovi
    su sumuse sunus sutarti sutartis svaru svedijoj sveiki tada tai taip tas telefona
    telefonas telefono telefonus tiek tiesiog tik tris turi turiu ukio ukyje uz uzdare uzmus
    uzrakino uzsienyje vadovas vaikai vaikinas vairuotojas vakar vakara vakare val valanda
    valandu vandens vardu vasara vel vercia veza viena vienas vis visada visi viska viskas
    visu visus vokietija vokietijoj vokietijoje vyrai vyras vyru yra zadejo zino zmogus
    zmonemis zmones zmoniu
"""

RU_TRANSLIT = """
    adres avtobuse bede berline bilet bjet boitsya bolshe budet bylo chasa chasov chelovek
    chto chtob chtoby daet dal dazhe delat deneg dengi derzhat derzhit dnej dnya dogovor
    dokumentov dolg dollarov dolzhen dolzhna dolzhny dome domoj drugoj drugomu dubae dver
    dyshat edem edu edy ee ego ehat ej emu eshche eshe esli est eto firme fure gde germanii
    goda gollandii gorod govorit govorjat govoryat granice granicu grozit hochet hodit
    horosho hozjain hozyain idti ih ikamet ili inache itoge iz izbil izbili izraile kak
    kakie kakoj kaunase kazhdyj klientami kogda komnate komnatu kontejnere koree kormyat
    kredit krichit kto kuda kupil kvartire kvartiru kvartiry latvii lezhit li litve ljudi
    luchshe magazin mame mashine mashinu menja menya mesjac mesjaca mesyac mesyaca mesyacev
    minske minut mne mogu mozhet mozhno muzh muzhik nado nakonec nami napisal napisala
    nashego nechem nedeli nedelju nedelyu nee nego nelzja nelzya nichego nih nikogda nikto
    nim noch nochyu norvegii nozh nozhom obeshali obeshchali obshage ochen odin odnoj
    ohrannik okazalos ona oni opjat opyat ostalnoe ot otdadut otdaet otdal otdam otdast
    otdat otele otkryt otobrali otpuskaet otvechaet paren pervyj pisat pishet pishu plachet
    platit ploho pod podvale poka polgoda polshe poluchit pomogi pomogite posle potom potomu
    pozhalujsta poznakomilas pri prihodit prishla privezli prodali prosit proverit rabotaem
    rabotaet rabotaju rabotal rabotat rabotayu rabote rabotodatel rabotu raboty rastet ravno
    raza rebenok rige ruki schet sdelali sdelat sebja segodnja segodnya seichas sejchas
    skazal skazali skazat sklade skolko smeny snaruzhi spasibo spim sprosit srazu stroike
    strojke sudne tabletki teplice tolko tot tozhe turcii ubila udaril uehal uehala ujdu
    ujti upal utra uze uzhe vagonchike varshave vchera vecherom vernuli vernut vilniuse
    voobshe vovremja vozduha vozit vsegda vseh vsem vsjo vtoroj vyhodit vyhodnoj vyhodnyh
    vyjti vypuskaet vzjal vzyal zabiraet zabirajut zabral zabrali zakryli zakryt zaper
    zaperli zaplatili zastavljajut zastavlyaet zastavlyayut zavode zhe zhile zhit zhivem
    zhivut znaet zvonit
"""

UK_TRANSLIT = """
    abo ale bagazhnyku bankivsku berlini bidi bilja bilshe bje bo borg borh brygadyr
    bryhadyr bud bude budovi budynku bula bulo buty buv chehiji chekhii chesno cholovik
    cholovikiv chuzhoho chy daiut daje daly dav de ditmy dity dlia dni dniv dobre dobu
    dodomu dohovoru dokumentiv donka dopomozhit dorohu duzhe dyakuyu dyhaty dytyna dzvonyt
    dzvonyty fabryci fermi firmi godyn groshi hazjajin hazyain hlopec hoche hodyn hodynu
    hodyny hospodar hoteli hroshej hroshi hto hurtozhytku ii inakshe inshu italiji jak
    jakshcho je jevro jiji jogo joho jomu kartku kartky kazaly kazav kaze kazhe kazhut kazut
    khochu khto kimnati kimnatu koly kontejneri kordoni kozhen kredyt krychyt kudy kudys
    kupyv kvartyri kvartyru kvartyry kvytky kvytok laska lezhyt ljudy lytvi maje maju mami
    mashyni mashynu mene meni mij misiats misiatsi misjac misjaci misyatsi moji mozhe mozhna
    mozhu napysala napysav navit neji nema nich nichoho nihto nikhto nikudy nimechchyni
    nimechchynu nioho nizh nozhem nyh nym obicjaly odrazu odyn oformyty pasporty pereviryty
    pid pide pidkazhit pidu pidvali pislia pislja pity plache platiat platyt platyty pobyly
    podruha poky polshchi pomozhit poprosyla poprosyv potim pracjuju pracjuvaty prodaly
    prodavaty prosyt pry pryvezly pysaty pyshe pyshu pyshut reshta rik robotodavec robotu
    roboty robyty rokiv roku roky roste ruky sejfi shche shcho shchob shchos sho shob
    shvydku skazaly skazav skazhe skilky skladi slovachchyni sogodni sohodni spaty spymo
    spyt telegrami teplyci tezh tilky toho treba trymaje trymajut trymayut tse tualeti
    tyzhden tyzhni tyzhniv ukr vbje vchasno vchora vdaryv vdoma vechora viddadut viddam
    viddast viddaty viddav viddaye vidkryty vikna vin vnochi vodij vona vony vpav vsi vsih
    vsikh vsim vtekla vvecheri vyhidni vyhidnyh vyhodyt vyity vyjty vynen vynna vynni
    vypuskaje vzahali vzhe vzjav yak yaki yakshcho yii yim yiyi yoho yomu zabraly zabrav
    zabyrajut zakryly zakryv zamknuly zaplatyly zaraz zavodi zgvaltuvav zhartuje zhytlo
    zhyty zhyvemo zmina zminu zminy zmushuiut zmushujut zmushuyut znaiu znaje znovu zrobyty
    zzovni
"""
