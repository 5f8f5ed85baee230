//! Where a recipient probably is: a WhatsApp id (E.164 digits without `+`) → its country, by
//! the longest matching calling-code prefix → the IANA time zones quiet hours are read in.
//!
//! A hand-written table rather than a phone-number library: the engine needs a country and
//! its zones, not validation or formatting, and the full metadata would outweigh the rest of
//! the crate.
//!
//! How the zones of a region are chosen (the compliance docs repeat this):
//! - A country lists every zone with a distinct local time where a significant population
//!   lives (roughly 100,000 people or more): Spain includes the Canary Islands, Portugal the
//!   Azores; Chile's Easter Island, Ecuador's Galápagos and Australia's Lord Howe do not.
//!   Zones that always share a local time are listed once.
//! - The first zone is the primary one (the capital's or the most populous).
//! - Where a number's own prefix says more (a landline area code, a Brazilian DDD, a North
//!   American area code), the region narrows to that area's zones. Mobile numbers in most
//!   countries do not, and get the whole country.
//! - North America (+1): the area code picks US, Canada or a Caribbean country, and for US
//!   and Canadian area codes the zones of that area (several where an area code straddles a
//!   zone line). An area code not in the table (new overlays, toll-free, non-geographic)
//!   gets every US and Canadian zone.
//! - A number whose country is not in the table, and a BSUID recipient, get no region: quiet
//!   hours are then read in the tenant's time zone.

use crate::tenant_settings::Timezone;
use jiff::tz::TimeZone;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// ISO 3166-1 alpha-2; `None` where the prefix does not tell (an unlisted +1 area code).
    pub country: Option<&'static str>,
    /// IANA names; the first is the primary zone.
    pub zones: &'static [&'static str],
}

const fn r(country: &'static str, zones: &'static [&'static str]) -> Region {
    Region {
        country: Some(country),
        zones,
    }
}

const CA_ALL: &[&str] = &[
    "America/Toronto",
    "America/Halifax",
    "America/St_Johns",
    "America/Winnipeg",
    "America/Regina",
    "America/Edmonton",
    "America/Vancouver",
];
/// Every US zone, then every Canadian one ([`CA_ALL`]).
const NANP_UNKNOWN: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "America/Halifax",
    "America/St_Johns",
    "America/Winnipeg",
    "America/Regina",
    "America/Edmonton",
    "America/Vancouver",
];

const ET: &[&str] = &["America/New_York"];
const CT: &[&str] = &["America/Chicago"];
const MT: &[&str] = &["America/Denver"];
const AZ: &[&str] = &["America/Phoenix"];
const PT: &[&str] = &["America/Los_Angeles"];

/// North American area codes (the three digits after `1`).
const NANP: &[(&[&str], Region)] = &[
    // United States, Eastern.
    (
        &[
            "201", "202", "203", "207", "212", "215", "216", "220", "223", "227", "229", "231",
            "234", "239", "240", "248", "252", "260", "267", "269", "272", "276", "301", "302",
            "304", "305", "313", "315", "317", "321", "326", "330", "332", "336", "339", "347",
            "351", "352", "380", "386", "401", "404", "407", "410", "412", "413", "419", "434",
            "440", "443", "445", "463", "470", "475", "478", "484", "502", "508", "513", "516",
            "517", "518", "540", "551", "561", "567", "570", "571", "582", "585", "586", "603",
            "607", "609", "610", "614", "616", "617", "631", "640", "646", "656", "667", "678",
            "679", "680", "681", "686", "689", "703", "704", "706", "716", "717", "718", "724",
            "727", "732", "734", "740", "743", "754", "757", "762", "765", "770", "771", "772",
            "774", "781", "786", "802", "803", "804", "810", "813", "814", "826", "828", "835",
            "838", "839", "843", "845", "848", "854", "856", "857", "859", "860", "862", "863",
            "864", "865", "878", "904", "908", "910", "912", "914", "917", "919", "929", "934",
            "937", "941", "943", "947", "948", "954", "959", "973", "978", "980", "984", "989",
        ],
        r("US", ET),
    ),
    // United States, Central.
    (
        &[
            "205", "210", "214", "217", "218", "219", "224", "225", "228", "251", "254", "256",
            "262", "274", "281", "309", "312", "314", "316", "318", "319", "320", "325", "327",
            "331", "334", "337", "346", "353", "361", "402", "405", "409", "414", "417", "430",
            "432", "447", "464", "469", "479", "501", "504", "507", "512", "515", "531", "534",
            "539", "563", "572", "573", "580", "601", "608", "612", "615", "618", "629", "630",
            "636", "641", "651", "659", "660", "662", "682", "708", "712", "713", "715", "726",
            "730", "731", "737", "763", "769", "773", "779", "806", "815", "816", "817", "830",
            "832", "847", "861", "870", "872", "901", "903", "913", "918", "920", "924", "931",
            "936", "938", "940", "945", "952", "956", "972", "979", "985",
        ],
        r("US", CT),
    ),
    // United States, Mountain (Arizona apart: no daylight saving).
    (
        &[
            "303", "307", "385", "406", "435", "505", "575", "719", "720", "801", "915", "970",
            "983",
        ],
        r("US", MT),
    ),
    (&["480", "520", "602", "623", "928"], r("US", AZ)),
    // United States, Pacific.
    (
        &[
            "206", "209", "213", "253", "279", "310", "323", "341", "350", "360", "408", "415",
            "424", "425", "442", "503", "509", "510", "530", "559", "562", "564", "619", "626",
            "628", "650", "657", "661", "669", "702", "707", "714", "725", "747", "760", "775",
            "805", "818", "820", "831", "840", "858", "909", "916", "925", "949", "951", "971",
        ],
        r("US", PT),
    ),
    (&["907"], r("US", &["America/Anchorage"])),
    (&["808"], r("US", &["Pacific/Honolulu"])),
    // United States, area codes across a zone line.
    (
        &["423", "270", "364", "606"],
        r("US", &["America/New_York", "America/Chicago"]),
    ),
    (
        &["850", "448"],
        r("US", &["America/New_York", "America/Chicago"]),
    ),
    (
        &["574", "812", "930"],
        r("US", &["America/Indiana/Indianapolis", "America/Chicago"]),
    ),
    (&["906"], r("US", &["America/Detroit", "America/Menominee"])),
    (
        &["308", "605", "620", "701", "785"],
        r("US", &["America/Chicago", "America/Denver"]),
    ),
    (
        &["208", "986"],
        r("US", &["America/Boise", "America/Los_Angeles"]),
    ),
    (
        &["458", "541"],
        r("US", &["America/Los_Angeles", "America/Boise"]),
    ),
    // Canada.
    (
        &[
            "226", "249", "263", "289", "343", "354", "365", "367", "382", "416", "418", "437",
            "438", "450", "468", "514", "519", "548", "579", "581", "613", "647", "683", "705",
            "742", "753", "819", "873", "905", "942",
        ],
        r("CA", &["America/Toronto"]),
    ),
    (&["807"], r("CA", &["America/Toronto", "America/Winnipeg"])),
    (&["204", "431", "584"], r("CA", &["America/Winnipeg"])),
    (&["306", "474", "639"], r("CA", &["America/Regina"])),
    (
        &["368", "403", "587", "780", "825"],
        r("CA", &["America/Edmonton"]),
    ),
    (&["604"], r("CA", &["America/Vancouver"])),
    (
        &["236", "250", "257", "672", "778"],
        r("CA", &["America/Vancouver", "America/Edmonton"]),
    ),
    (&["428", "506", "782", "902"], r("CA", &["America/Halifax"])),
    (&["709", "879"], r("CA", &["America/St_Johns"])),
    (
        &["867"],
        r(
            "CA",
            &[
                "America/Whitehorse",
                "America/Edmonton",
                "America/Winnipeg",
                "America/Toronto",
            ],
        ),
    ),
    (
        &["600", "622", "633", "644", "655", "677", "688"],
        r("CA", CA_ALL),
    ),
    // The Caribbean and the Pacific territories.
    (&["242"], r("BS", &["America/Nassau"])),
    (&["246"], r("BB", &["America/Barbados"])),
    (&["264"], r("AI", &["America/Anguilla"])),
    (&["268"], r("AG", &["America/Antigua"])),
    (&["284"], r("VG", &["America/Tortola"])),
    (&["340"], r("VI", &["America/St_Thomas"])),
    (&["345"], r("KY", &["America/Cayman"])),
    (&["441"], r("BM", &["Atlantic/Bermuda"])),
    (&["473"], r("GD", &["America/Grenada"])),
    (&["649"], r("TC", &["America/Grand_Turk"])),
    (&["658", "876"], r("JM", &["America/Jamaica"])),
    (&["664"], r("MS", &["America/Montserrat"])),
    (&["670"], r("MP", &["Pacific/Saipan"])),
    (&["671"], r("GU", &["Pacific/Guam"])),
    (&["684"], r("AS", &["Pacific/Pago_Pago"])),
    (&["721"], r("SX", &["America/Lower_Princes"])),
    (&["758"], r("LC", &["America/St_Lucia"])),
    (&["767"], r("DM", &["America/Dominica"])),
    (&["784"], r("VC", &["America/St_Vincent"])),
    (&["787", "939"], r("PR", &["America/Puerto_Rico"])),
    (&["809", "829", "849"], r("DO", &["America/Santo_Domingo"])),
    (&["868"], r("TT", &["America/Port_of_Spain"])),
    (&["869"], r("KN", &["America/St_Kitts"])),
];

const RU_ALL: &[&str] = &[
    "Europe/Moscow",
    "Europe/Kaliningrad",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
];
const MX_ALL: &[&str] = &[
    "America/Mexico_City",
    "America/Cancun",
    "America/Matamoros",
    "America/Ciudad_Juarez",
    "America/Mazatlan",
    "America/Hermosillo",
    "America/Tijuana",
];
const BR_ALL: &[&str] = &["America/Sao_Paulo", "America/Manaus", "America/Rio_Branco"];
const AU_ALL: &[&str] = &[
    "Australia/Sydney",
    "Australia/Brisbane",
    "Australia/Adelaide",
    "Australia/Darwin",
    "Australia/Perth",
];
const ID_ALL: &[&str] = &["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"];

/// Calling codes, and the longer prefixes that narrow a country to an area. Not `+1`.
const PREFIXES: &[(&str, Region)] = &[
    // Russia and Kazakhstan share +7; Kazakhstan has one local time since March 2024.
    ("7", r("RU", RU_ALL)),
    ("7495", r("RU", &["Europe/Moscow"])),
    ("7499", r("RU", &["Europe/Moscow"])),
    ("7812", r("RU", &["Europe/Moscow"])),
    ("76", r("KZ", &["Asia/Almaty"])),
    ("77", r("KZ", &["Asia/Almaty"])),
    ("20", r("EG", &["Africa/Cairo"])),
    ("27", r("ZA", &["Africa/Johannesburg"])),
    ("30", r("GR", &["Europe/Athens"])),
    ("31", r("NL", &["Europe/Amsterdam"])),
    ("32", r("BE", &["Europe/Brussels"])),
    ("33", r("FR", &["Europe/Paris"])),
    // Spain: landlines say peninsula or Canaries; mobiles (6, 7) do not.
    ("34", r("ES", &["Europe/Madrid", "Atlantic/Canary"])),
    ("348", r("ES", &["Europe/Madrid"])),
    ("349", r("ES", &["Europe/Madrid"])),
    ("34822", r("ES", &["Atlantic/Canary"])),
    ("34828", r("ES", &["Atlantic/Canary"])),
    ("34922", r("ES", &["Atlantic/Canary"])),
    ("34928", r("ES", &["Atlantic/Canary"])),
    ("36", r("HU", &["Europe/Budapest"])),
    ("39", r("IT", &["Europe/Rome"])),
    ("40", r("RO", &["Europe/Bucharest"])),
    ("41", r("CH", &["Europe/Zurich"])),
    ("43", r("AT", &["Europe/Vienna"])),
    ("44", r("GB", &["Europe/London"])),
    ("45", r("DK", &["Europe/Copenhagen"])),
    ("46", r("SE", &["Europe/Stockholm"])),
    ("47", r("NO", &["Europe/Oslo"])),
    ("48", r("PL", &["Europe/Warsaw"])),
    ("49", r("DE", &["Europe/Berlin"])),
    ("51", r("PE", &["America/Lima"])),
    ("52", r("MX", MX_ALL)),
    ("5255", r("MX", &["America/Mexico_City"])),
    ("5256", r("MX", &["America/Mexico_City"])),
    ("5233", r("MX", &["America/Mexico_City"])),
    ("5281", r("MX", &["America/Monterrey"])),
    ("52664", r("MX", &["America/Tijuana"])),
    ("52665", r("MX", &["America/Tijuana"])),
    ("52686", r("MX", &["America/Tijuana"])),
    ("52646", r("MX", &["America/Tijuana"])),
    ("52656", r("MX", &["America/Ciudad_Juarez"])),
    ("52662", r("MX", &["America/Hermosillo"])),
    ("52612", r("MX", &["America/Mazatlan"])),
    ("52624", r("MX", &["America/Mazatlan"])),
    ("52669", r("MX", &["America/Mazatlan"])),
    ("52983", r("MX", &["America/Cancun"])),
    ("52984", r("MX", &["America/Cancun"])),
    ("52998", r("MX", &["America/Cancun"])),
    ("53", r("CU", &["America/Havana"])),
    ("54", r("AR", &["America/Argentina/Buenos_Aires"])),
    // Brazil: the two-digit DDD after 55 is the state, mobile or not.
    ("55", r("BR", BR_ALL)),
    ("5563", r("BR", &["America/Araguaina"])),
    ("5565", r("BR", &["America/Cuiaba"])),
    ("5566", r("BR", &["America/Cuiaba"])),
    ("5567", r("BR", &["America/Campo_Grande"])),
    ("5568", r("BR", &["America/Rio_Branco"])),
    ("5569", r("BR", &["America/Porto_Velho"])),
    ("5571", r("BR", &["America/Bahia"])),
    ("5573", r("BR", &["America/Bahia"])),
    ("5574", r("BR", &["America/Bahia"])),
    ("5575", r("BR", &["America/Bahia"])),
    ("5577", r("BR", &["America/Bahia"])),
    ("5579", r("BR", &["America/Maceio"])),
    ("5582", r("BR", &["America/Maceio"])),
    ("5581", r("BR", &["America/Recife"])),
    ("5583", r("BR", &["America/Recife"])),
    ("5584", r("BR", &["America/Recife"])),
    ("5587", r("BR", &["America/Recife"])),
    ("5585", r("BR", &["America/Fortaleza"])),
    ("5586", r("BR", &["America/Fortaleza"])),
    ("5588", r("BR", &["America/Fortaleza"])),
    ("5589", r("BR", &["America/Fortaleza"])),
    ("5598", r("BR", &["America/Fortaleza"])),
    ("5599", r("BR", &["America/Fortaleza"])),
    ("5591", r("BR", &["America/Belem"])),
    ("5594", r("BR", &["America/Belem"])),
    ("5596", r("BR", &["America/Belem"])),
    ("5593", r("BR", &["America/Santarem"])),
    ("5592", r("BR", &["America/Manaus"])),
    ("5595", r("BR", &["America/Boa_Vista"])),
    ("5597", r("BR", &["America/Manaus", "America/Eirunepe"])),
    ("551", r("BR", &["America/Sao_Paulo"])),
    ("552", r("BR", &["America/Sao_Paulo"])),
    ("553", r("BR", &["America/Sao_Paulo"])),
    ("554", r("BR", &["America/Sao_Paulo"])),
    ("555", r("BR", &["America/Sao_Paulo"])),
    ("5561", r("BR", &["America/Sao_Paulo"])),
    ("5562", r("BR", &["America/Sao_Paulo"])),
    ("5564", r("BR", &["America/Sao_Paulo"])),
    ("56", r("CL", &["America/Santiago", "America/Punta_Arenas"])),
    ("57", r("CO", &["America/Bogota"])),
    ("58", r("VE", &["America/Caracas"])),
    ("60", r("MY", &["Asia/Kuala_Lumpur"])),
    // Australia: landline area codes 2, 3, 7, 8 say the region; mobiles (4) do not.
    ("61", r("AU", AU_ALL)),
    ("612", r("AU", &["Australia/Sydney"])),
    ("613", r("AU", &["Australia/Melbourne"])),
    ("617", r("AU", &["Australia/Brisbane"])),
    (
        "618",
        r(
            "AU",
            &["Australia/Adelaide", "Australia/Perth", "Australia/Darwin"],
        ),
    ),
    ("62", r("ID", ID_ALL)),
    ("6221", r("ID", &["Asia/Jakarta"])),
    ("6222", r("ID", &["Asia/Jakarta"])),
    ("6231", r("ID", &["Asia/Jakarta"])),
    ("62361", r("ID", &["Asia/Makassar"])),
    ("63", r("PH", &["Asia/Manila"])),
    ("64", r("NZ", &["Pacific/Auckland"])),
    ("65", r("SG", &["Asia/Singapore"])),
    ("66", r("TH", &["Asia/Bangkok"])),
    ("81", r("JP", &["Asia/Tokyo"])),
    ("82", r("KR", &["Asia/Seoul"])),
    ("84", r("VN", &["Asia/Ho_Chi_Minh"])),
    ("86", r("CN", &["Asia/Shanghai"])),
    ("90", r("TR", &["Europe/Istanbul"])),
    ("91", r("IN", &["Asia/Kolkata"])),
    ("92", r("PK", &["Asia/Karachi"])),
    ("93", r("AF", &["Asia/Kabul"])),
    ("94", r("LK", &["Asia/Colombo"])),
    ("95", r("MM", &["Asia/Yangon"])),
    ("98", r("IR", &["Asia/Tehran"])),
    ("211", r("SS", &["Africa/Juba"])),
    ("212", r("MA", &["Africa/Casablanca"])),
    ("213", r("DZ", &["Africa/Algiers"])),
    ("216", r("TN", &["Africa/Tunis"])),
    ("218", r("LY", &["Africa/Tripoli"])),
    ("220", r("GM", &["Africa/Banjul"])),
    ("221", r("SN", &["Africa/Dakar"])),
    ("223", r("ML", &["Africa/Bamako"])),
    ("224", r("GN", &["Africa/Conakry"])),
    ("225", r("CI", &["Africa/Abidjan"])),
    ("226", r("BF", &["Africa/Ouagadougou"])),
    ("227", r("NE", &["Africa/Niamey"])),
    ("228", r("TG", &["Africa/Lome"])),
    ("229", r("BJ", &["Africa/Porto-Novo"])),
    ("230", r("MU", &["Indian/Mauritius"])),
    ("231", r("LR", &["Africa/Monrovia"])),
    ("232", r("SL", &["Africa/Freetown"])),
    ("233", r("GH", &["Africa/Accra"])),
    ("234", r("NG", &["Africa/Lagos"])),
    ("235", r("TD", &["Africa/Ndjamena"])),
    ("237", r("CM", &["Africa/Douala"])),
    ("243", r("CD", &["Africa/Kinshasa", "Africa/Lubumbashi"])),
    ("244", r("AO", &["Africa/Luanda"])),
    ("249", r("SD", &["Africa/Khartoum"])),
    ("250", r("RW", &["Africa/Kigali"])),
    ("251", r("ET", &["Africa/Addis_Ababa"])),
    ("252", r("SO", &["Africa/Mogadishu"])),
    ("254", r("KE", &["Africa/Nairobi"])),
    ("255", r("TZ", &["Africa/Dar_es_Salaam"])),
    ("256", r("UG", &["Africa/Kampala"])),
    ("258", r("MZ", &["Africa/Maputo"])),
    ("260", r("ZM", &["Africa/Lusaka"])),
    ("261", r("MG", &["Indian/Antananarivo"])),
    // Réunion and Mayotte share +262 an hour apart; their prefixes tell them apart.
    ("262", r("RE", &["Indian/Reunion", "Indian/Mayotte"])),
    ("262262", r("RE", &["Indian/Reunion"])),
    ("262692", r("RE", &["Indian/Reunion"])),
    ("262693", r("RE", &["Indian/Reunion"])),
    ("262269", r("YT", &["Indian/Mayotte"])),
    ("262639", r("YT", &["Indian/Mayotte"])),
    ("263", r("ZW", &["Africa/Harare"])),
    ("297", r("AW", &["America/Aruba"])),
    // Portugal: Azores landlines start 292, 295, 296; mobiles (9) do not tell.
    ("351", r("PT", &["Europe/Lisbon", "Atlantic/Azores"])),
    ("3512", r("PT", &["Europe/Lisbon"])),
    ("351292", r("PT", &["Atlantic/Azores"])),
    ("351295", r("PT", &["Atlantic/Azores"])),
    ("351296", r("PT", &["Atlantic/Azores"])),
    ("352", r("LU", &["Europe/Luxembourg"])),
    ("353", r("IE", &["Europe/Dublin"])),
    ("354", r("IS", &["Atlantic/Reykjavik"])),
    ("355", r("AL", &["Europe/Tirane"])),
    ("356", r("MT", &["Europe/Malta"])),
    ("357", r("CY", &["Asia/Nicosia"])),
    ("358", r("FI", &["Europe/Helsinki"])),
    ("359", r("BG", &["Europe/Sofia"])),
    ("370", r("LT", &["Europe/Vilnius"])),
    ("371", r("LV", &["Europe/Riga"])),
    ("372", r("EE", &["Europe/Tallinn"])),
    ("373", r("MD", &["Europe/Chisinau"])),
    ("374", r("AM", &["Asia/Yerevan"])),
    ("375", r("BY", &["Europe/Minsk"])),
    ("380", r("UA", &["Europe/Kyiv"])),
    ("381", r("RS", &["Europe/Belgrade"])),
    ("385", r("HR", &["Europe/Zagreb"])),
    ("386", r("SI", &["Europe/Ljubljana"])),
    ("387", r("BA", &["Europe/Sarajevo"])),
    ("389", r("MK", &["Europe/Skopje"])),
    ("420", r("CZ", &["Europe/Prague"])),
    ("421", r("SK", &["Europe/Bratislava"])),
    ("502", r("GT", &["America/Guatemala"])),
    ("503", r("SV", &["America/El_Salvador"])),
    ("504", r("HN", &["America/Tegucigalpa"])),
    ("505", r("NI", &["America/Managua"])),
    ("506", r("CR", &["America/Costa_Rica"])),
    ("507", r("PA", &["America/Panama"])),
    ("509", r("HT", &["America/Port-au-Prince"])),
    ("590", r("GP", &["America/Guadeloupe"])),
    ("591", r("BO", &["America/La_Paz"])),
    ("592", r("GY", &["America/Guyana"])),
    ("593", r("EC", &["America/Guayaquil"])),
    ("594", r("GF", &["America/Cayenne"])),
    ("595", r("PY", &["America/Asuncion"])),
    ("596", r("MQ", &["America/Martinique"])),
    ("597", r("SR", &["America/Paramaribo"])),
    ("598", r("UY", &["America/Montevideo"])),
    ("599", r("CW", &["America/Curacao"])),
    ("852", r("HK", &["Asia/Hong_Kong"])),
    ("853", r("MO", &["Asia/Macau"])),
    ("855", r("KH", &["Asia/Phnom_Penh"])),
    ("856", r("LA", &["Asia/Vientiane"])),
    ("880", r("BD", &["Asia/Dhaka"])),
    ("886", r("TW", &["Asia/Taipei"])),
    ("960", r("MV", &["Indian/Maldives"])),
    ("961", r("LB", &["Asia/Beirut"])),
    ("962", r("JO", &["Asia/Amman"])),
    ("963", r("SY", &["Asia/Damascus"])),
    ("964", r("IQ", &["Asia/Baghdad"])),
    ("965", r("KW", &["Asia/Kuwait"])),
    ("966", r("SA", &["Asia/Riyadh"])),
    ("967", r("YE", &["Asia/Aden"])),
    ("968", r("OM", &["Asia/Muscat"])),
    ("970", r("PS", &["Asia/Hebron", "Asia/Gaza"])),
    ("971", r("AE", &["Asia/Dubai"])),
    ("972", r("IL", &["Asia/Jerusalem"])),
    ("973", r("BH", &["Asia/Bahrain"])),
    ("974", r("QA", &["Asia/Qatar"])),
    ("975", r("BT", &["Asia/Thimphu"])),
    ("976", r("MN", &["Asia/Ulaanbaatar", "Asia/Hovd"])),
    ("977", r("NP", &["Asia/Kathmandu"])),
    ("992", r("TJ", &["Asia/Dushanbe"])),
    ("993", r("TM", &["Asia/Ashgabat"])),
    ("994", r("AZ", &["Asia/Baku"])),
    ("995", r("GE", &["Asia/Tbilisi"])),
    ("996", r("KG", &["Asia/Bishkek"])),
    ("998", r("UZ", &["Asia/Tashkent"])),
];

/// The region of a WhatsApp id, `None` when it is not a plausible E.164 number or its
/// country is not in the table.
pub fn region(wa_id: &str) -> Option<Region> {
    let digits = wa_id.strip_prefix('+').unwrap_or(wa_id);
    if !(4..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(national) = digits.strip_prefix('1') {
        return Some(nanp(national));
    }
    let digits = without_mobile_marker(digits);
    PREFIXES
        .iter()
        .filter(|(prefix, _)| digits.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, region)| *region)
}

fn nanp(national: &str) -> Region {
    national
        .get(..3)
        .and_then(|area| {
            NANP.iter()
                .find(|(codes, _)| codes.contains(&area))
                .map(|(_, region)| *region)
        })
        .unwrap_or(Region {
            country: None,
            zones: NANP_UNKNOWN,
        })
}

/// WhatsApp still writes many Mexican mobiles as `521` + ten digits, the pre-2019 dialling
/// form; the area code follows the `1`.
fn without_mobile_marker(digits: &str) -> Cow<'_, str> {
    match digits.strip_prefix("521") {
        Some(rest) if digits.len() == 13 => Cow::Owned(format!("52{rest}")),
        _ => Cow::Borrowed(digits),
    }
}

/// The zones quiet hours are read in for this recipient, primary first: the region's, or the
/// tenant's zone where there is no region. Never empty: a tenant zone the bundled database
/// no longer knows reads as UTC.
pub fn recipient_zones(wa_id: Option<&str>, tenant_zone: &Timezone) -> Vec<TimeZone> {
    let db = jiff::tz::db();
    let zones: Vec<TimeZone> = wa_id
        .and_then(region)
        .map(|r| r.zones.iter().filter_map(|z| db.get(z).ok()).collect())
        .unwrap_or_default();
    if !zones.is_empty() {
        return zones;
    }
    vec![db.get(tenant_zone.as_str()).unwrap_or(TimeZone::UTC)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn country(wa_id: &str) -> Option<&'static str> {
        region(wa_id).and_then(|r| r.country)
    }

    fn zones(wa_id: &str) -> &'static [&'static str] {
        region(wa_id).map(|r| r.zones).unwrap_or(&[])
    }

    #[test]
    fn every_zone_in_the_table_is_in_the_bundled_database() {
        let db = jiff::tz::db();
        let all = PREFIXES
            .iter()
            .map(|(_, r)| r)
            .chain(NANP.iter().map(|(_, r)| r))
            .flat_map(|r| r.zones.iter())
            .chain(NANP_UNKNOWN);
        for z in all {
            assert!(db.get(z).is_ok(), "{z}");
        }
    }

    #[test]
    fn the_table_has_no_duplicate_prefix_and_covers_sixty_countries() {
        let mut seen = HashSet::new();
        for (p, _) in PREFIXES {
            assert!(p.bytes().all(|b| b.is_ascii_digit()), "{p}");
            assert!(seen.insert(*p), "duplicate prefix {p}");
        }
        let mut areas = HashSet::new();
        for (codes, _) in NANP {
            for c in *codes {
                assert_eq!(c.len(), 3, "{c}");
                assert!(areas.insert(*c), "duplicate area code {c}");
            }
        }
        let countries: HashSet<_> = PREFIXES
            .iter()
            .map(|(_, r)| r)
            .chain(NANP.iter().map(|(_, r)| r))
            .filter_map(|r| r.country)
            .collect();
        assert!(countries.len() >= 60, "{}", countries.len());
        let regions = PREFIXES.iter().map(|(_, r)| r);
        for r in regions.chain(NANP.iter().map(|(_, r)| r)) {
            assert!(!r.zones.is_empty());
        }
    }

    #[test]
    fn the_longest_prefix_wins() {
        assert_eq!(country("79161234567"), Some("RU"));
        assert_eq!(zones("79161234567"), RU_ALL);
        assert_eq!(zones("74951234567"), ["Europe/Moscow"]);
        assert_eq!(country("77011234567"), Some("KZ"));
        assert_eq!(country("34612345678"), Some("ES"));
        assert_eq!(zones("34612345678"), ["Europe/Madrid", "Atlantic/Canary"]);
        assert_eq!(zones("34912345678"), ["Europe/Madrid"]);
        assert_eq!(zones("34922123456"), ["Atlantic/Canary"]);
        assert_eq!(country("919812345678"), Some("IN"));
        assert_eq!(country("971501234567"), Some("AE"));
        assert_eq!(country("2348012345678"), Some("NG"));
        assert_eq!(country("262692123456"), Some("RE"));
        assert_eq!(country("262639123456"), Some("YT"));
    }

    #[test]
    fn north_american_area_codes_pick_the_country_and_zones() {
        assert_eq!(country("12125551234"), Some("US"));
        assert_eq!(zones("12125551234"), ["America/New_York"]);
        assert_eq!(zones("13125551234"), ["America/Chicago"]);
        assert_eq!(zones("14155551234"), ["America/Los_Angeles"]);
        assert_eq!(zones("16025551234"), ["America/Phoenix"]);
        assert_eq!(country("14165551234"), Some("CA"));
        assert_eq!(country("18095551234"), Some("DO"));
        assert_eq!(country("17875551234"), Some("PR"));
        assert_eq!(country("18765551234"), Some("JM"));
        // Toll-free: no country, every US and Canadian zone.
        assert_eq!(region("18005551234").map(|r| r.zones), Some(NANP_UNKNOWN));
        assert_eq!(country("18005551234"), None);
    }

    #[test]
    fn brazil_and_mexico_narrow_by_area_code() {
        assert_eq!(zones("5511987654321"), ["America/Sao_Paulo"]);
        assert_eq!(zones("5592987654321"), ["America/Manaus"]);
        assert_eq!(zones("5568987654321"), ["America/Rio_Branco"]);
        assert_eq!(zones("525512345678"), ["America/Mexico_City"]);
        // The old mobile form with a 1 after the country code.
        assert_eq!(zones("5215512345678"), ["America/Mexico_City"]);
        assert_eq!(zones("5216641234567"), ["America/Tijuana"]);
        assert_eq!(zones("527771234567"), MX_ALL);
    }

    #[test]
    fn junk_and_unlisted_countries_have_no_region() {
        for bad in [
            "",
            "abc",
            "1",
            "123",
            "+",
            "3461234567890123",
            "34 612 345 678",
        ] {
            assert_eq!(region(bad), None, "{bad:?}");
        }
        // +800 is international freephone: no country.
        assert_eq!(region("80012345678"), None);
        assert_eq!(country("+34612345678"), Some("ES"));
    }

    #[test]
    fn without_a_region_the_tenant_zone_is_used() {
        let berlin = Timezone::parse("Europe/Berlin").unwrap();
        let z = recipient_zones(None, &berlin);
        assert_eq!(z.len(), 1);
        assert_eq!(z[0].iana_name(), Some("Europe/Berlin"));
        let z = recipient_zones(Some("80012345678"), &berlin);
        assert_eq!(z[0].iana_name(), Some("Europe/Berlin"));
        let z = recipient_zones(Some("34912345678"), &berlin);
        assert_eq!(z[0].iana_name(), Some("Europe/Madrid"));
    }
}
