//! The Commerce Policy screen (P20): text that offers what the WhatsApp Commerce Policy
//! forbids is refused, in sends and in the AI agent's answers.
//!
//! A curated lexicon, not a classifier: words and phrases that, in English, Spanish,
//! Portuguese, French or German, name a forbidden good with little other meaning. Matching is
//! on whole words of folded text (case and accents ignored), so "begun" never matches a gun
//! word and "Heißklebepistole" (a glue gun) never matches "Pistole". Words with a common
//! innocent meaning are left out or only listed inside a phrase: "vino" (Spanish also "came"),
//! "vin" (a vehicle number), "gun" (glue gun), "alcohol" (alcohol-free, hand gel), "slots"
//! (time slots), "escort" (a car), "heroína" (a heroine), "granada" (a city, a fruit),
//! "pistola" (paint and glue guns), "knock off" (a discount). Some false positives remain
//! accepted: a bar's "wine list", a casino-named supermarket, "cigarette trousers"; the
//! merchant sees the category and can rephrase.

use super::text::{fold, words};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProhibitedCategory {
    Weapons,
    Drugs,
    Tobacco,
    Alcohol,
    Adult,
    Gambling,
    Counterfeit,
    Animals,
}

impl ProhibitedCategory {
    pub const ALL: &'static [ProhibitedCategory] = &[
        ProhibitedCategory::Weapons,
        ProhibitedCategory::Drugs,
        ProhibitedCategory::Tobacco,
        ProhibitedCategory::Alcohol,
        ProhibitedCategory::Adult,
        ProhibitedCategory::Gambling,
        ProhibitedCategory::Counterfeit,
        ProhibitedCategory::Animals,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProhibitedCategory::Weapons => "weapons",
            ProhibitedCategory::Drugs => "drugs",
            ProhibitedCategory::Tobacco => "tobacco",
            ProhibitedCategory::Alcohol => "alcohol",
            ProhibitedCategory::Adult => "adult",
            ProhibitedCategory::Gambling => "gambling",
            ProhibitedCategory::Counterfeit => "counterfeit",
            ProhibitedCategory::Animals => "animals",
        }
    }

    /// For the merchant's sentence.
    pub fn describe(self) -> &'static str {
        match self {
            ProhibitedCategory::Weapons => "weapons, ammunition or explosives",
            ProhibitedCategory::Drugs => "illegal, recreational or prescription drugs",
            ProhibitedCategory::Tobacco => "tobacco, cigarettes or vaping products",
            ProhibitedCategory::Alcohol => "alcoholic drinks",
            ProhibitedCategory::Adult => "adult products or sexual services",
            ProhibitedCategory::Gambling => "real-money gambling or betting",
            ProhibitedCategory::Counterfeit => "counterfeit or replica goods",
            ProhibitedCategory::Animals => "the sale of animals or wildlife products",
        }
    }
}

use ProhibitedCategory::*;

/// (category, language, words and phrases). The same word may appear under several
/// languages; it is listed where it belongs for the docs.
pub const LEXICON: &[(ProhibitedCategory, &str, &[&str])] = &[
    (
        Weapons,
        "en",
        &[
            "firearm",
            "firearms",
            "handgun",
            "handguns",
            "shotgun",
            "shotguns",
            "rifle",
            "rifles",
            "assault rifle",
            "pistol",
            "pistols",
            "revolver",
            "revolvers",
            "ammunition",
            "ammo",
            "gunpowder",
            "explosives",
            "explosive device",
            "dynamite",
            "detonator",
            "detonators",
            "hand grenade",
            "hand grenades",
            "ak-47",
            "ar-15",
        ],
    ),
    (
        Weapons,
        "es",
        &[
            "arma de fuego",
            "armas de fuego",
            "escopeta",
            "escopetas",
            "fusil",
            "fusiles",
            "munición",
            "municiones",
            "explosivos",
            "dinamita",
            "granada de mano",
        ],
    ),
    (
        Weapons,
        "pt",
        &[
            "arma de fogo",
            "armas de fogo",
            "espingarda",
            "espingardas",
            "fuzil",
            "fuzis",
            "munição",
            "munições",
            "dinamite",
            "granada de mão",
        ],
    ),
    (
        Weapons,
        "fr",
        &[
            "arme à feu",
            "armes à feu",
            "fusils",
            "carabine",
            "carabines",
            "munitions",
            "explosifs",
            "grenade à main",
        ],
    ),
    (
        Weapons,
        "de",
        &[
            "schusswaffe",
            "schusswaffen",
            "gewehr",
            "gewehre",
            "pistole",
            "pistolen",
            "munition",
            "sprengstoff",
            "handgranate",
            "handgranaten",
        ],
    ),
    (
        Drugs,
        "en",
        &[
            "cocaine",
            "heroin",
            "methamphetamine",
            "crystal meth",
            "fentanyl",
            "mdma",
            "lsd",
            "ketamine",
            "marijuana",
            "cannabis",
            "thc",
            "psilocybin",
            "magic mushrooms",
            "oxycodone",
            "oxycontin",
            "xanax",
            "opioids",
            "without a prescription",
            "no prescription needed",
        ],
    ),
    (
        Drugs,
        "es",
        &[
            "cocaína",
            "metanfetamina",
            "marihuana",
            "fentanilo",
            "ketamina",
            "hongos alucinógenos",
        ],
    ),
    (
        Drugs,
        "pt",
        &[
            "maconha",
            "fentanil",
            "cetamina",
            "cogumelos mágicos",
            "lança-perfume",
        ],
    ),
    (
        Drugs,
        "fr",
        &["champignons hallucinogènes", "méthamphétamine"],
    ),
    (
        Drugs,
        "de",
        &[
            "kokain",
            "methamphetamin",
            "marihuana",
            "ketamin",
            "zauberpilze",
        ],
    ),
    (
        Tobacco,
        "en",
        &[
            "cigarette",
            "cigarettes",
            "cigar",
            "cigars",
            "tobacco",
            "vape",
            "vapes",
            "vaping",
            "e-cigarette",
            "e-cigarettes",
            "e-cig",
            "e-cigs",
            "e-liquid",
            "e-liquids",
            "nicotine",
            "hookah",
            "shisha",
            "snus",
            "rolling papers",
        ],
    ),
    (
        Tobacco,
        "es",
        &[
            "cigarrillo",
            "cigarrillos",
            "cigarro",
            "cigarros",
            "tabaco",
            "vapeador",
            "vapeadores",
            "nicotina",
            "cachimba",
        ],
    ),
    (
        Tobacco,
        "pt",
        &["cigarro eletrônico", "cigarros eletrônicos", "narguilé"],
    ),
    (Tobacco, "fr", &["tabac", "vapoteuse", "vapoteuses"]),
    (
        Tobacco,
        "de",
        &[
            "zigarette",
            "zigaretten",
            "zigarre",
            "zigarren",
            "tabak",
            "e-zigarette",
            "e-zigaretten",
            "nikotin",
        ],
    ),
    (
        Alcohol,
        "en",
        &[
            "beer",
            "beers",
            "wine",
            "wines",
            "vodka",
            "whisky",
            "whiskey",
            "tequila",
            "liquor",
            "liquors",
            "gin",
            "bourbon",
            "brandy",
            "cognac",
            "mezcal",
            "prosecco",
            "alcoholic beverages",
            "alcoholic drinks",
        ],
    ),
    (
        Alcohol,
        "es",
        &[
            "cerveza",
            "cervezas",
            "vinos",
            "vino tinto",
            "vino blanco",
            "vino rosado",
            "licor",
            "licores",
            "aguardiente",
            "pisco",
            "bebidas alcohólicas",
        ],
    ),
    (
        Alcohol,
        "pt",
        &[
            "cerveja",
            "cervejas",
            "vinho",
            "vinhos",
            "cachaça",
            "bebidas alcoólicas",
        ],
    ),
    (
        Alcohol,
        "fr",
        &[
            "bière",
            "bières",
            "vins",
            "vin rouge",
            "vin blanc",
            "vin rosé",
            "liqueur",
            "liqueurs",
            "spiritueux",
            "boissons alcoolisées",
        ],
    ),
    (
        Alcohol,
        "de",
        &[
            "bier",
            "biere",
            "wein",
            "weine",
            "schnaps",
            "wodka",
            "likör",
            "spirituosen",
            "alkoholische getränke",
        ],
    ),
    (
        Adult,
        "en",
        &[
            "porn",
            "porno",
            "pornography",
            "pornographic",
            "sex toy",
            "sex toys",
            "escort service",
            "escort services",
            "escort girls",
            "prostitution",
            "prostitute",
            "prostitutes",
            "erotic massage",
            "sexual services",
            "camgirl",
            "camgirls",
        ],
    ),
    (
        Adult,
        "es",
        &[
            "pornografía",
            "juguete sexual",
            "juguetes sexuales",
            "prostitución",
            "prostituta",
            "prostitutas",
            "masaje erótico",
            "servicios sexuales",
        ],
    ),
    (
        Adult,
        "pt",
        &[
            "brinquedos sexuais",
            "prostituição",
            "garota de programa",
            "garotas de programa",
            "massagem erótica",
            "serviços sexuais",
        ],
    ),
    (
        Adult,
        "fr",
        &[
            "pornographie",
            "sextoy",
            "sextoys",
            "prostituée",
            "massage érotique",
            "escort girl",
        ],
    ),
    (
        Adult,
        "de",
        &[
            "pornografie",
            "sexspielzeug",
            "prostituierte",
            "erotische massage",
            "escortservice",
            "sexuelle dienstleistungen",
        ],
    ),
    (
        Gambling,
        "en",
        &[
            "casino",
            "casinos",
            "online casino",
            "sports betting",
            "betting tips",
            "bookmaker",
            "bookmakers",
            "sportsbook",
            "slot machine",
            "slot machines",
            "online poker",
            "online roulette",
            "free spins",
            "place your bets",
        ],
    ),
    (
        Gambling,
        "es",
        &[
            "apuestas deportivas",
            "casa de apuestas",
            "casas de apuestas",
            "apuestas online",
            "tragamonedas",
            "tragaperras",
            "ruleta online",
            "póker online",
        ],
    ),
    (
        Gambling,
        "pt",
        &[
            "cassino",
            "cassinos",
            "apostas esportivas",
            "casa de apostas",
            "casas de apostas",
            "apostas online",
            "caça-níqueis",
            "jogo do bicho",
            "roleta online",
        ],
    ),
    (
        Gambling,
        "fr",
        &[
            "paris sportifs",
            "pari sportif",
            "machine à sous",
            "machines à sous",
            "roulette en ligne",
            "poker en ligne",
            "casino en ligne",
        ],
    ),
    (
        Gambling,
        "de",
        &[
            "kasino",
            "spielbank",
            "sportwetten",
            "wettbüro",
            "spielautomat",
            "spielautomaten",
        ],
    ),
    (
        Counterfeit,
        "en",
        &[
            "counterfeit",
            "counterfeits",
            "replica watch",
            "replica watches",
            "replica bags",
            "replica handbags",
            "replica shoes",
            "replica sneakers",
            "fake designer",
            "knockoff",
            "knockoffs",
            "first copy watches",
            "first copy bags",
            "first copy shoes",
            "aaa replica",
            "1:1 replica",
        ],
    ),
    (
        Counterfeit,
        "es",
        &[
            "falsificado",
            "falsificados",
            "falsificada",
            "falsificadas",
            "falsificación",
            "réplicas de marca",
            "relojes réplica",
            "bolsos réplica",
        ],
    ),
    (
        Counterfeit,
        "pt",
        &[
            "réplica de grife",
            "réplicas de grife",
            "relógios réplica",
            "bolsas réplica",
        ],
    ),
    (
        Counterfeit,
        "fr",
        &[
            "contrefaçon",
            "contrefaçons",
            "contrefait",
            "contrefaits",
            "contrefaite",
            "contrefaites",
        ],
    ),
    (
        Counterfeit,
        "de",
        &[
            "fälschung",
            "fälschungen",
            "gefälscht",
            "gefälschte",
            "gefälschten",
            "markenfälschung",
            "markenfälschungen",
        ],
    ),
    (
        Animals,
        "en",
        &[
            "puppies for sale",
            "puppy for sale",
            "kittens for sale",
            "kitten for sale",
            "live animals",
            "exotic pets",
            "exotic animals for sale",
            "elephant ivory",
            "rhino horn",
            "pangolin scales",
        ],
    ),
    (
        Animals,
        "es",
        &[
            "cachorros en venta",
            "venta de cachorros",
            "perritos en venta",
            "gatitos en venta",
            "animales vivos",
            "animales exóticos",
            "marfil de elefante",
            "cuerno de rinoceronte",
        ],
    ),
    (
        Animals,
        "pt",
        &[
            "filhotes à venda",
            "venda de filhotes",
            "animais vivos",
            "animais exóticos",
            "animais silvestres",
            "chifre de rinoceronte",
        ],
    ),
    (
        Animals,
        "fr",
        &[
            "chiots à vendre",
            "chatons à vendre",
            "animaux vivants",
            "animaux exotiques",
            "ivoire d'éléphant",
            "corne de rhinocéros",
        ],
    ),
    (
        Animals,
        "de",
        &[
            "welpen zu verkaufen",
            "katzenbabys zu verkaufen",
            "lebende tiere",
            "exotische tiere",
            "nashornhorn",
        ],
    ),
];

/// What matched: the category and the lexicon entry as written. The entry is ours, not the
/// customer's text, so it may be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProhibitedMatch {
    pub category: ProhibitedCategory,
    pub term: &'static str,
}

/// Lexicon entries by their first folded word: a text is scanned once, and each word looks
/// up only the phrases that start with it.
struct Index(HashMap<String, Vec<(Vec<String>, ProhibitedMatch)>>);

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map: HashMap<String, Vec<(Vec<String>, ProhibitedMatch)>> = HashMap::new();
        for &(category, _, terms) in LEXICON {
            for &term in terms {
                let folded = fold(term);
                let ws: Vec<String> = words(&folded).map(str::to_owned).collect();
                if let Some(first) = ws.first() {
                    map.entry(first.clone())
                        .or_default()
                        .push((ws, ProhibitedMatch { category, term }));
                }
            }
        }
        Index(map)
    })
}

/// The first category (in [`ProhibitedCategory::ALL`] order) any of `texts` falls in, with
/// the entry that matched.
pub fn find(texts: &[&str]) -> Option<ProhibitedMatch> {
    let index = index();
    let mut best: Option<ProhibitedMatch> = None;
    for text in texts {
        let folded = fold(text);
        let ws: Vec<&str> = words(&folded).collect();
        for (i, w) in ws.iter().enumerate() {
            let Some(candidates) = index.0.get(*w) else {
                continue;
            };
            for (phrase, m) in candidates {
                let rest = ws.get(i..i + phrase.len());
                let hit = rest.is_some_and(|rest| rest.iter().zip(phrase).all(|(a, b)| *a == b));
                if hit && best.is_none_or(|b| m.category < b.category) {
                    best = Some(*m);
                }
            }
        }
    }
    best
}

pub fn screen(texts: &[&str]) -> Option<ProhibitedCategory> {
    find(texts).map(|m| m.category)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_catches_its_words_in_every_language() {
        let cases: &[(&str, ProhibitedCategory)] = &[
            ("Glock pistols and 9mm ammo in stock", Weapons),
            ("Vendemos armas de fuego", Weapons),
            ("Munição para espingarda", Weapons),
            ("Armes à feu et munitions", Weapons),
            ("Gewehre und Munition", Weapons),
            ("Best cocaine in town", Drugs),
            ("Marihuana a domicilio", Drugs),
            ("Maconha entregue hoje", Drugs),
            ("Xanax without a prescription", Drugs),
            ("New vape flavours!", Tobacco),
            ("E-cigarettes 2 for 1", Tobacco),
            ("Tabaco de liar", Tobacco),
            ("Zigaretten günstig", Tobacco),
            ("Happy hour: 2 beers for $5", Alcohol),
            ("Cerveja gelada", Alcohol),
            ("Vin rouge en promotion", Alcohol),
            ("Frisches Bier vom Fass", Alcohol),
            ("Sex toys discreet delivery", Adult),
            ("Masaje erótico", Adult),
            ("Online casino bonus", Gambling),
            ("Apostas esportivas com bônus", Gambling),
            ("Paris sportifs", Gambling),
            ("Sportwetten heute", Gambling),
            ("Replica watches, AAA quality", Counterfeit),
            ("Bolsos réplica", Counterfeit),
            ("Contrefaçon de luxe", Counterfeit),
            ("Gefälschte Markenware", Counterfeit),
            ("Puppies for sale, vaccinated", Animals),
            ("Filhotes à venda", Animals),
            ("Chiots à vendre", Animals),
            ("Welpen zu verkaufen", Animals),
        ];
        for (text, category) in cases {
            assert_eq!(screen(&[text]), Some(*category), "{text:?}");
        }
        for c in ProhibitedCategory::ALL {
            assert!(cases.iter().any(|(_, k)| k == c), "{c:?} untested");
            assert!(LEXICON.iter().any(|(k, _, _)| k == c));
        }
    }

    #[test]
    fn whole_words_only_and_common_innocent_words_pass() {
        for text in [
            "We have begun shipping your order",
            "Grass-fed beef, foie gras",
            "Hot glue gun, 20% off",
            "Heißklebepistole im Angebot",
            "Pistola de silicona y pistola de calor",
            "El vino ayer a la tienda",
            "Please send your car's VIN number",
            "Hand sanitizer with 70% alcohol",
            "Alcohol-free shampoo",
            "Book one of our time slots",
            "Ford Escort spare parts",
            "The heroine of the story",
            "Jus de grenade frais",
            "Visit us in Granada",
            "Use bullet points for clarity",
            "We knock off 20% today",
            "Scotch tape and staples",
            "Weed killer for gardens",
            "For the sake of clarity",
            "Winery tours? No: we sell wineglasses", // compounds are other words
            "Shotgunning the sprint",                // ditto
            "",
        ] {
            assert_eq!(find(&[text]), None, "{text:?}");
        }
    }

    #[test]
    fn case_and_accents_do_not_matter_and_phrases_need_every_word() {
        assert_eq!(screen(&["COCAINA"]), Some(Drugs));
        assert_eq!(screen(&["Cocaína"]), Some(Drugs));
        assert_eq!(screen(&["MACHINES A SOUS"]), Some(Gambling));
        assert_eq!(screen(&["slot"]), None);
        assert_eq!(screen(&["replica"]), None);
        assert_eq!(screen(&["arma de"]), None);
    }

    #[test]
    fn the_first_category_wins_across_all_texts() {
        let m = find(&["cold beer", "and a rifle"]).unwrap();
        assert_eq!(m.category, Weapons);
        assert_eq!(m.term, "rifle");
        assert_eq!(screen(&["fine", "text"]), None);
        assert_eq!(screen(&[]), None);
    }

    #[test]
    fn codes_are_stable() {
        let codes: Vec<_> = ProhibitedCategory::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            codes,
            [
                "weapons",
                "drugs",
                "tobacco",
                "alcohol",
                "adult",
                "gambling",
                "counterfeit",
                "animals"
            ]
        );
        for c in ProhibitedCategory::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        let entries: usize = LEXICON.iter().map(|(_, _, t)| t.len()).sum();
        assert!(entries > 300, "{entries}");
    }
}
