//! The pages' own words in the five languages of the events (Italian, English, French, German,
//! Spanish), and the language of a request: `lang=` in the query (a shareable URL), else the
//! `lang` cookie the language switch leaves, else `Accept-Language`, else Italian.
//!
//! Every text is a [`Text`] of five strings in [`Lang::ALL`] order, so a missing translation
//! does not compile.

pub mod citizen;

use axum::http::{HeaderMap, header};
use sportello_core::events::{Category, Lang};

use crate::http::lang::Lang as ApiLang;

/// One text in Italian, English, French, German and Spanish (the order of [`Lang::ALL`]).
pub struct Text(pub [&'static str; 5]);

impl Text {
    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &'static str {
        let index = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
        self.0[index]
    }
}

/// The language of a page request (see the module's documentation) and whether it came from
/// the query, in which case the answer remembers it in a cookie.
pub fn page_lang(query: Option<&str>, headers: &HeaderMap) -> (Lang, bool) {
    let asked = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(name, _)| name == "lang")
            .and_then(|(_, value)| Lang::from_tag(&value))
    });
    if let Some(lang) = asked {
        return (lang, true);
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("lang="))
        .and_then(Lang::from_tag);
    let accepted = || {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::negotiate)
    };
    (cookie.or_else(accepted).unwrap_or(Lang::It), false)
}

/// The language of the API's problem texts (Italian and English) for a page language: English
/// for every language but Italian, since a visitor reading French reads English more likely
/// than Italian.
pub fn problem_lang(lang: Lang) -> ApiLang {
    if lang == Lang::It {
        ApiLang::It
    } else {
        ApiLang::En
    }
}

/// The language's name in itself, for the language switch.
pub fn native_name(lang: Lang) -> &'static str {
    match lang {
        Lang::It => "Italiano",
        Lang::En => "English",
        Lang::Fr => "Français",
        Lang::De => "Deutsch",
        Lang::Es => "Español",
    }
}

/// A category's name.
pub fn category(lang: Lang, category: &str) -> &'static str {
    let Ok(category) = category.parse::<Category>() else {
        return OTHER.get(lang);
    };
    let text = match category {
        Category::Concert => Text(["Concerto", "Concert", "Concert", "Konzert", "Concierto"]),
        Category::Theatre => Text(["Teatro", "Theatre", "Théâtre", "Theater", "Teatro"]),
        Category::Dance => Text(["Danza", "Dance", "Danse", "Tanz", "Danza"]),
        Category::Film => Text(["Proiezione", "Film", "Projection", "Film", "Proyección"]),
        Category::Exhibition => Text(["Mostra", "Exhibition", "Exposition", "Ausstellung", "Exposición"]),
        Category::Conference => Text(["Conferenza", "Talk", "Conférence", "Vortrag", "Conferencia"]),
        Category::BookPresentation => Text([
            "Presentazione di libro",
            "Book launch",
            "Présentation de livre",
            "Buchvorstellung",
            "Presentación de libro",
        ]),
        Category::Reading => Text(["Lettura", "Reading", "Lecture", "Lesung", "Lectura"]),
        Category::Workshop => Text(["Laboratorio", "Workshop", "Atelier", "Workshop", "Taller"]),
        Category::GuidedTour => Text([
            "Visita guidata",
            "Guided tour",
            "Visite guidée",
            "Führung",
            "Visita guiada",
        ]),
        Category::Festival => Text(["Festa", "Festival", "Fête", "Fest", "Fiesta"]),
        Category::Fair => Text(["Fiera", "Fair", "Foire", "Messe", "Feria"]),
        Category::Sport => Text(["Sport", "Sport", "Sport", "Sport", "Deporte"]),
        Category::Kids => Text([
            "Per bambini",
            "For children",
            "Pour enfants",
            "Für Kinder",
            "Para niños",
        ]),
        Category::Other => return OTHER.get(lang),
    };
    text.get(lang)
}

const OTHER: Text = Text(["Altro", "Other", "Autre", "Sonstiges", "Otro"]);

pub const SERVICE: &str = "Sportello";
pub const TAGLINE: Text = Text([
    "Eventi, biblioteche e servizi dei Comuni della Città Metropolitana di Genova",
    "Events, libraries and services of the municipalities of the Metropolitan City of Genoa",
    "Événements, bibliothèques et services des communes de la Ville métropolitaine de Gênes",
    "Veranstaltungen, Bibliotheken und Dienste der Gemeinden der Metropolitanstadt Genua",
    "Eventos, bibliotecas y servicios de los municipios de la Ciudad Metropolitana de Génova",
]);
pub const OWNER: Text = Text([
    "Città Metropolitana di Genova",
    "Metropolitan City of Genoa",
    "Ville métropolitaine de Gênes",
    "Metropolitanstadt Genua",
    "Ciudad Metropolitana de Génova",
]);
pub const SKIP: Text = Text([
    "Vai al contenuto",
    "Skip to content",
    "Aller au contenu",
    "Zum Inhalt",
    "Ir al contenido",
]);
pub const LANGUAGE: Text = Text(["Lingua", "Language", "Langue", "Sprache", "Idioma"]);
pub const MAIN_MENU: Text = Text([
    "Menu principale",
    "Main menu",
    "Menu principal",
    "Hauptmenü",
    "Menú principal",
]);
pub const HOME: Text = Text(["Inizio", "Home", "Accueil", "Startseite", "Inicio"]);
pub const EVENTS: Text = Text(["Eventi", "Events", "Événements", "Veranstaltungen", "Eventos"]);
pub const LIBRARIES: Text = Text([
    "Biblioteche",
    "Libraries",
    "Bibliothèques",
    "Bibliotheken",
    "Bibliotecas",
]);
pub const CATALOGUE: Text = Text([
    "Catalogo delle biblioteche",
    "Library catalogue",
    "Catalogue des bibliothèques",
    "Bibliothekskatalog",
    "Catálogo de las bibliotecas",
]);
pub const HOME_INTRO: Text = Text([
    "Cosa fare oggi, la biblioteca aperta più vicina, il libro da prendere in prestito: senza registrarti.",
    "What to do today, the nearest open library, the book to borrow: no account needed.",
    "Que faire aujourd'hui, la bibliothèque ouverte la plus proche, le livre à emprunter : sans compte.",
    "Was heute los ist, die nächste geöffnete Bibliothek, das Buch zum Ausleihen: ohne Anmeldung.",
    "Qué hacer hoy, la biblioteca abierta más cercana, el libro para llevar en préstamo: sin cuenta.",
]);
pub const PICK_MUNICIPALITY: Text = Text([
    "Scegli un comune",
    "Choose a municipality",
    "Choisissez une commune",
    "Gemeinde wählen",
    "Elige un municipio",
]);
pub const MUNICIPALITY: Text = Text(["Comune", "Municipality", "Commune", "Gemeinde", "Municipio"]);
pub const ALL_MUNICIPALITIES: Text = Text([
    "Tutti i comuni",
    "All municipalities",
    "Toutes les communes",
    "Alle Gemeinden",
    "Todos los municipios",
]);
pub const USE_LOCATION: Text = Text([
    "Usa la mia posizione",
    "Use my location",
    "Utiliser ma position",
    "Meinen Standort verwenden",
    "Usar mi ubicación",
]);
pub const LOCATION_USED: Text = Text([
    "Vicino alla tua posizione",
    "Near your location",
    "Près de votre position",
    "In Ihrer Nähe",
    "Cerca de tu ubicación",
]);
pub const LOCATION_FAILED: Text = Text([
    "Posizione non disponibile: scegli un comune.",
    "Location not available: choose a municipality.",
    "Position indisponible : choisissez une commune.",
    "Standort nicht verfügbar: Gemeinde wählen.",
    "Ubicación no disponible: elige un municipio.",
]);
pub const SEARCH: Text = Text(["Cerca", "Search", "Rechercher", "Suchen", "Buscar"]);
pub const SHOW: Text = Text(["Mostra", "Show", "Afficher", "Anzeigen", "Mostrar"]);
pub const WHEN: Text = Text(["Quando", "When", "Quand", "Wann", "Cuándo"]);
pub const TODAY: Text = Text(["Oggi", "Today", "Aujourd'hui", "Heute", "Hoy"]);
pub const WEEKEND: Text = Text([
    "Questo fine settimana",
    "This weekend",
    "Ce week-end",
    "Dieses Wochenende",
    "Este fin de semana",
]);
pub const NEXT_30_DAYS: Text = Text([
    "Prossimi 30 giorni",
    "Next 30 days",
    "30 prochains jours",
    "Nächste 30 Tage",
    "Próximos 30 días",
]);
pub const NO_EVENTS: Text = Text([
    "Nessun evento in questo periodo.",
    "No events in this period.",
    "Aucun événement sur cette période.",
    "Keine Veranstaltungen in diesem Zeitraum.",
    "No hay eventos en este periodo.",
]);
pub const FREE: Text = Text([
    "Ingresso libero",
    "Free entry",
    "Entrée libre",
    "Eintritt frei",
    "Entrada libre",
]);
pub const PRICE: Text = Text(["Prezzo", "Price", "Prix", "Preis", "Precio"]);
pub const ACCESSIBLE: Text = Text([
    "Accessibile",
    "Accessible",
    "Accessible",
    "Barrierefrei",
    "Accesible",
]);
pub const ADD_TO_CALENDAR: Text = Text([
    "Aggiungi al calendario",
    "Add to calendar",
    "Ajouter au calendrier",
    "Zum Kalender hinzufügen",
    "Añadir al calendario",
]);
pub const TICKETS: Text = Text(["Biglietti", "Tickets", "Billets", "Tickets", "Entradas"]);
pub const NEXT_DATES: Text = Text([
    "Prossime date",
    "Next dates",
    "Prochaines dates",
    "Nächste Termine",
    "Próximas fechas",
]);
pub const WHERE: Text = Text(["Dove", "Where", "Où", "Wo", "Dónde"]);
pub const AWAY: Text = Text(["di distanza", "away", "de distance", "entfernt", "de distancia"]);
pub const MORE: Text = Text([
    "Altri risultati",
    "More results",
    "Plus de résultats",
    "Weitere Ergebnisse",
    "Más resultados",
]);
pub const OPEN_NOW: Text = Text([
    "Aperta ora",
    "Open now",
    "Ouverte",
    "Jetzt geöffnet",
    "Abierta ahora",
]);
pub const CLOSED_NOW: Text = Text([
    "Chiusa ora",
    "Closed now",
    "Fermée",
    "Jetzt geschlossen",
    "Cerrada ahora",
]);
pub const ONLY_OPEN: Text = Text([
    "Solo quelle aperte ora",
    "Open now only",
    "Seulement celles ouvertes",
    "Nur jetzt geöffnete",
    "Solo las abiertas ahora",
]);
pub const CLOSES_AT: Text = Text(["Chiude", "Closes", "Ferme", "Schließt", "Cierra"]);
pub const OPENS_AT: Text = Text(["Apre", "Opens", "Ouvre", "Öffnet", "Abre"]);
pub const HOURS: Text = Text(["Orari", "Opening hours", "Horaires", "Öffnungszeiten", "Horario"]);
pub const CLOSURES: Text = Text(["Chiusure", "Closures", "Fermetures", "Schließtage", "Cierres"]);
pub const SERVICES: Text = Text(["Servizi", "Services", "Services", "Angebote", "Servicios"]);
pub const CONTACTS: Text = Text(["Contatti", "Contacts", "Contacts", "Kontakt", "Contacto"]);
pub const PHONE: Text = Text(["Telefono", "Phone", "Téléphone", "Telefon", "Teléfono"]);
pub const WEBSITE: Text = Text(["Sito web", "Website", "Site web", "Webseite", "Sitio web"]);
pub const NO_LIBRARIES: Text = Text([
    "Nessuna biblioteca trovata.",
    "No libraries found.",
    "Aucune bibliothèque trouvée.",
    "Keine Bibliotheken gefunden.",
    "No se encontraron bibliotecas.",
]);
pub const CATALOGUE_WORDS: Text = Text([
    "Titolo, autore, soggetto o ISBN",
    "Title, author, subject or ISBN",
    "Titre, auteur, sujet ou ISBN",
    "Titel, Autor, Thema oder ISBN",
    "Título, autor, materia o ISBN",
]);
pub const ONLY_ON_SHELF: Text = Text([
    "Solo con una copia sullo scaffale",
    "Only with a copy on the shelf",
    "Seulement avec un exemplaire en rayon",
    "Nur mit einem Exemplar im Regal",
    "Solo con un ejemplar en la estantería",
]);
pub const NEAREST_COPY: Text = Text([
    "Copia più vicina sullo scaffale",
    "Nearest copy on the shelf",
    "Exemplaire en rayon le plus proche",
    "Nächstes Exemplar im Regal",
    "Ejemplar más cercano en la estantería",
]);
pub const ON_SHELF: Text = Text([
    "sullo scaffale",
    "on the shelf",
    "en rayon",
    "im Regal",
    "en la estantería",
]);
pub const IN_LIBRARIES: Text = Text([
    "biblioteche",
    "libraries",
    "bibliothèques",
    "Bibliotheken",
    "bibliotecas",
]);
pub const RESULTS: Text = Text(["Risultati", "Results", "Résultats", "Ergebnisse", "Resultados"]);
pub const NO_RESULTS: Text = Text([
    "Nessun risultato.",
    "No results.",
    "Aucun résultat.",
    "Keine Ergebnisse.",
    "Sin resultados.",
]);
pub const NOT_FOUND: Text = Text([
    "Pagina non trovata",
    "Page not found",
    "Page introuvable",
    "Seite nicht gefunden",
    "Página no encontrada",
]);
pub const NOT_FOUND_TEXT: Text = Text([
    "L'indirizzo non corrisponde a nessuna pagina di Sportello.",
    "The address matches no page of Sportello.",
    "L'adresse ne correspond à aucune page de Sportello.",
    "Die Adresse entspricht keiner Seite von Sportello.",
    "La dirección no corresponde a ninguna página de Sportello.",
]);
pub const BACK_HOME: Text = Text([
    "Torna alla pagina iniziale",
    "Back to the home page",
    "Retour à l'accueil",
    "Zur Startseite",
    "Volver al inicio",
]);
pub const LEGAL: Text = Text([
    "Note legali",
    "Legal notes",
    "Mentions légales",
    "Rechtliche Hinweise",
    "Aviso legal",
]);
pub const LEGAL_TEXT: Text = Text([
    "Sportello è software libero (EUPL-1.2). Queste pagine non usano cookie di profilazione né strumenti di tracciamento: l'unico cookie ricorda la lingua scelta. La posizione, se la condividi, resta nell'indirizzo della pagina e serve solo a ordinare i risultati per distanza; non viene conservata.",
    "Sportello is free software (EUPL-1.2). These pages use no profiling cookies and no tracking: the only cookie remembers the language you chose. Your location, if you share it, stays in the page's address and is used only to order results by distance; it is not stored.",
    "Sportello est un logiciel libre (EUPL-1.2). Ces pages n'utilisent ni cookies de profilage ni traçage : le seul cookie mémorise la langue choisie. Votre position, si vous la partagez, reste dans l'adresse de la page et sert uniquement à trier les résultats par distance ; elle n'est pas conservée.",
    "Sportello ist freie Software (EUPL-1.2). Diese Seiten verwenden keine Profiling-Cookies und kein Tracking: Das einzige Cookie speichert die gewählte Sprache. Ihr Standort, wenn Sie ihn teilen, bleibt in der Adresse der Seite und dient nur zur Sortierung nach Entfernung; er wird nicht gespeichert.",
    "Sportello es software libre (EUPL-1.2). Estas páginas no usan cookies de perfilado ni seguimiento: la única cookie recuerda el idioma elegido. Tu ubicación, si la compartes, queda en la dirección de la página y solo sirve para ordenar los resultados por distancia; no se guarda.",
]);
pub const DEMO: Text = Text([
    "Dati dimostrativi",
    "Demo data",
    "Données de démonstration",
    "Beispieldaten",
    "Datos de demostración",
]);
pub const API_DOCS: Text = Text([
    "API per sviluppatori",
    "API for developers",
    "API pour développeurs",
    "API für Entwickler",
    "API para desarrolladores",
]);
pub const OFFLINE: Text = Text([
    "Sei offline",
    "You are offline",
    "Vous êtes hors ligne",
    "Sie sind offline",
    "Estás sin conexión",
]);
pub const OFFLINE_TEXT: Text = Text([
    "Questa pagina non è disponibile senza connessione. Riprova quando sarai di nuovo in linea.",
    "This page is not available without a connection. Try again when you are back online.",
    "Cette page n'est pas disponible sans connexion. Réessayez une fois en ligne.",
    "Diese Seite ist ohne Verbindung nicht verfügbar. Versuchen Sie es wieder, wenn Sie online sind.",
    "Esta página no está disponible sin conexión. Vuelve a intentarlo cuando estés en línea.",
]);
pub const ERROR: Text = Text([
    "Richiesta non valida",
    "The request could not be served",
    "La demande n'a pas pu aboutir",
    "Die Anfrage konnte nicht bearbeitet werden",
    "No se pudo atender la solicitud",
]);
pub const LOGIN: Text = Text(["Accedi", "Log in", "Se connecter", "Anmelden", "Acceder"]);
pub const MY_AREA: Text = Text([
    "Area personale",
    "My area",
    "Espace personnel",
    "Mein Bereich",
    "Área personal",
]);
pub const LOGOUT: Text = Text(["Esci", "Log out", "Se déconnecter", "Abmelden", "Salir"]);
pub const FOLLOW: Text = Text(["Segui", "Follow", "Suivre", "Folgen", "Seguir"]);
pub const LOGIN_TO_FOLLOW: Text = Text([
    "Accedi per seguire l'evento",
    "Log in to follow this event",
    "Connectez-vous pour suivre l'événement",
    "Anmelden, um der Veranstaltung zu folgen",
    "Accede para seguir el evento",
]);
pub const UNFOLLOW: Text = Text([
    "Non seguire più",
    "Unfollow",
    "Ne plus suivre",
    "Nicht mehr folgen",
    "Dejar de seguir",
]);

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_query_wins_then_the_cookie_then_the_browser() {
        let browser = headers(&[(header::ACCEPT_LANGUAGE, "de-DE,de;q=0.9")]);
        assert_eq!(page_lang(None, &browser), (Lang::De, false));
        assert_eq!(page_lang(Some("when=today&lang=es"), &browser), (Lang::Es, true));
        let with_cookie = headers(&[
            (header::ACCEPT_LANGUAGE, "de"),
            (header::COOKIE, "other=1; lang=fr"),
        ]);
        assert_eq!(page_lang(None, &with_cookie), (Lang::Fr, false));
        // A language we don't have is ignored wherever it comes from.
        assert_eq!(
            page_lang(Some("lang=ja"), &headers(&[(header::COOKIE, "lang=xx")])),
            (Lang::It, false)
        );
    }

    #[test]
    fn texts_follow_the_order_of_the_languages() {
        assert_eq!(TODAY.get(Lang::It), "Oggi");
        assert_eq!(TODAY.get(Lang::En), "Today");
        assert_eq!(TODAY.get(Lang::Fr), "Aujourd'hui");
        assert_eq!(TODAY.get(Lang::De), "Heute");
        assert_eq!(TODAY.get(Lang::Es), "Hoy");
        assert_eq!(category(Lang::De, "concert"), "Konzert");
        assert_eq!(category(Lang::En, "nonsense"), "Other");
    }
}
