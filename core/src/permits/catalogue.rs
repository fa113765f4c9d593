//! The procedure catalogue: each procedure's legal clock, documents, fields and fees, kept as
//! data (`core/data/permits/procedures.toml`) so that a municipality can override it.

use std::collections::HashSet;
use std::sync::LazyLock;

use jiff::civil::Date;
use serde::Deserialize;

use super::PermitsError;
use crate::payments::Amount;

/// The built-in catalogue, as shipped (national law and indicative fees).
pub const BUILTIN_CATALOGUE: &str = include_str!("../../data/permits/procedures.toml");

/// Longest phase, window or suspension we accept, in days: anything longer is a typo.
const MAX_DAYS: u16 = 365;

/// A text in Italian and English (Italian is the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalizedText {
    /// Italian.
    pub it: String,
    /// English.
    pub en: String,
}

impl LocalizedText {
    /// The text for a language tag: English for `en…`, Italian otherwise.
    pub fn get(&self, language: &str) -> &str {
        if language.get(..2).is_some_and(|l| l.eq_ignore_ascii_case("en")) {
            &self.en
        } else {
            &self.it
        }
    }
}

/// Circumstances in which a term doubles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Doubling {
    /// The municipality has more than 100,000 inhabitants.
    LargeMunicipality,
    /// The officer has declared the project particularly complex (DPR 380/2001 art. 20 c. 7).
    ComplexProject,
}

impl Doubling {
    /// The catalogue spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Doubling::LargeMunicipality => "large-municipality",
            Doubling::ComplexProject => "complex-project",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Doubling::LargeMunicipality, Doubling::ComplexProject]
            .into_iter()
            .find(|d| d.as_str() == text)
    }
}

/// The facts about one application that decide whether its terms double.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DoublingFacts {
    /// The municipality has more than 100,000 inhabitants.
    pub large_municipality: bool,
    /// The officer has declared the project particularly complex.
    pub complex_project: bool,
}

impl DoublingFacts {
    /// Whether any of `conditions` holds.
    pub fn any(self, conditions: &[Doubling]) -> bool {
        conditions.iter().any(|condition| match condition {
            Doubling::LargeMunicipality => self.large_municipality,
            Doubling::ComplexProject => self.complex_project,
        })
    }
}

/// One stretch of a legal clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    /// Stable code (`review`).
    pub code: String,
    /// Name to show.
    pub name: LocalizedText,
    /// Calendar days.
    pub days: u16,
    /// When the days double.
    pub doubles_when: Vec<Doubling>,
}

impl Phase {
    /// The days of this phase for an application with these facts.
    pub fn days_for(&self, facts: DoublingFacts) -> i64 {
        let days = i64::from(self.days);
        if facts.any(&self.doubles_when) {
            days * 2
        } else {
            days
        }
    }
}

/// What the law makes of the clock running out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadlineEffect {
    /// Nothing happens (the title was effective on filing, or there is no clock).
    Nothing,
    /// The applicant may start the works, unless constraints apply.
    WorksMayStart,
    /// Silence is assent (silenzio-assenso), unless constraints apply.
    SilentApproval,
    /// No silent approval: the office remains bound to decide (the applicant may go to court).
    NoSilentApproval,
}

impl DeadlineEffect {
    /// The catalogue spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineEffect::Nothing => "nothing",
            DeadlineEffect::WorksMayStart => "works-may-start",
            DeadlineEffect::SilentApproval => "silent-approval",
            DeadlineEffect::NoSilentApproval => "no-silent-approval",
        }
    }

    /// Whether the running out of the clock gives the applicant something (and so is blocked
    /// by constraints): silent approval, works may start.
    pub fn grants(self) -> bool {
        matches!(
            self,
            DeadlineEffect::WorksMayStart | DeadlineEffect::SilentApproval
        )
    }

    fn parse(text: &str) -> Option<Self> {
        [
            DeadlineEffect::Nothing,
            DeadlineEffect::WorksMayStart,
            DeadlineEffect::SilentApproval,
            DeadlineEffect::NoSilentApproval,
        ]
        .into_iter()
        .find(|e| e.as_str() == text)
    }
}

/// What a request for documents (integration) does to the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopEffect {
    /// Nothing: the request is informative.
    None,
    /// Interruption: the term restarts in full from the receipt of the documents.
    Interrupt,
    /// Suspension: the term resumes, with the days it had left, from the receipt.
    Suspend,
}

impl StopEffect {
    /// The catalogue spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StopEffect::None => "none",
            StopEffect::Interrupt => "interrupt",
            StopEffect::Suspend => "suspend",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [StopEffect::None, StopEffect::Interrupt, StopEffect::Suspend]
            .into_iter()
            .find(|e| e.as_str() == text)
    }
}

/// The rules for integration requests of a procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationRule {
    /// Effect on the clock.
    pub effect: StopEffect,
    /// How many requests the law allows (`None`: no limit).
    pub max_requests: Option<u8>,
    /// Within how many days of the filing a request may be made (`None`: while the clock runs).
    pub within_days: Option<u16>,
    /// When that window doubles.
    pub window_doubles_when: Vec<Doubling>,
    /// Longest suspension, after which the clock resumes by itself (`None`: until receipt).
    pub max_suspension_days: Option<u16>,
}

impl IntegrationRule {
    /// The window for requests, in days from the filing, for an application with these facts.
    pub fn window_for(&self, facts: DoublingFacts) -> Option<i64> {
        self.within_days.map(|days| {
            let days = i64::from(days);
            if facts.any(&self.window_doubles_when) {
                days * 2
            } else {
                days
            }
        })
    }
}

/// A deadline the applicant must meet, counted from a date they declare (e.g. the end of works).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicantDeadline {
    /// Calendar days.
    pub days: u16,
    /// The date field it counts from.
    pub from_field: String,
    /// What it means, to show.
    pub description: LocalizedText,
}

impl ApplicantDeadline {
    /// The last day to file, for the date declared in `from_field` (e.g. the end of works).
    pub fn last_day(&self, from: Date) -> Option<Date> {
        crate::calendar::add_days(from, i64::from(self.days))
    }

    /// Whether filing on `filed_on` is late for the date declared in `from_field`.
    pub fn is_late(&self, from: Date, filed_on: Date) -> bool {
        self.last_day(from).is_none_or(|last| filed_on > last)
    }
}

/// Kinds of application fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Free text.
    LongText,
    /// A number.
    Number,
    /// A calendar date.
    Date,
    /// Yes or no.
    Boolean,
    /// A street address.
    Address,
    /// Cadastral parcel: sheet (foglio), parcel (mappale), sub-unit (subalterno).
    CadastralParcel,
}

impl FieldKind {
    /// The catalogue spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long-text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Boolean => "boolean",
            FieldKind::Address => "address",
            FieldKind::CadastralParcel => "cadastral-parcel",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            FieldKind::Text,
            FieldKind::LongText,
            FieldKind::Number,
            FieldKind::Date,
            FieldKind::Boolean,
            FieldKind::Address,
            FieldKind::CadastralParcel,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// A field of the application form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// Stable code (`cadastral_parcel`).
    pub code: String,
    /// Label to show.
    pub label: LocalizedText,
    /// Kind of value.
    pub kind: FieldKind,
    /// Whether the application cannot be submitted without it.
    pub required: bool,
}

/// A document the applicant attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSpec {
    /// Stable code (`drawings`).
    pub code: String,
    /// Name to show.
    pub name: LocalizedText,
    /// Whether the application cannot be submitted without it.
    pub required: bool,
}

/// When a fee is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeeDue {
    /// Before the application counts as submitted.
    Filing,
    /// Before the positive decision is issued.
    Issue,
}

impl FeeDue {
    /// The catalogue spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FeeDue::Filing => "filing",
            FeeDue::Issue => "issue",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [FeeDue::Filing, FeeDue::Issue]
            .into_iter()
            .find(|d| d.as_str() == text)
    }
}

/// A fixed fee of a procedure: what the Payments context turns into a debt position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    /// Stable code (`secretariat`).
    pub code: String,
    /// Name to show (also the payment's description).
    pub name: LocalizedText,
    /// Amount.
    pub amount: Amount,
    /// When it is due.
    pub due: FeeDue,
    /// Paid as a pagoPA digital revenue stamp (marca da bollo) rather than to an account.
    pub stamp: bool,
}

/// One procedure of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procedure {
    /// Stable code (`pdc`).
    pub code: String,
    /// Name to show.
    pub name: LocalizedText,
    /// The law it rests on.
    pub legal_basis: String,
    /// Who decides.
    pub decided_by: LocalizedText,
    /// Whether the title is effective as soon as it is filed (CILA, SCIA, agibilità).
    pub effective_on_filing: bool,
    /// The clock's phases, in order (empty: no clock).
    pub phases: Vec<Phase>,
    /// What the clock running out means.
    pub at_deadline: DeadlineEffect,
    /// Integration requests.
    pub integration: IntegrationRule,
    /// A deadline the applicant must meet, if any.
    pub applicant_deadline: Option<ApplicantDeadline>,
    /// Documents to attach.
    pub documents: Vec<DocumentSpec>,
    /// Form fields.
    pub fields: Vec<FieldSpec>,
    /// Fixed fees.
    pub fees: Vec<Fee>,
}

impl Procedure {
    /// Whether the procedure has a legal clock.
    pub fn has_clock(&self) -> bool {
        !self.phases.is_empty()
    }

    /// Total days of the clock for an application with these facts.
    pub fn total_days(&self, facts: DoublingFacts) -> i64 {
        self.phases.iter().map(|p| p.days_for(facts)).sum()
    }

    /// The fees due at `due`.
    pub fn fees_due(&self, due: FeeDue) -> impl Iterator<Item = &Fee> {
        self.fees.iter().filter(move |fee| fee.due == due)
    }

    /// The sum of the fees due at `due`.
    pub fn total_due(&self, due: FeeDue) -> Amount {
        self.fees_due(due)
            .try_fold(Amount::ZERO, |total, fee| total.checked_add(fee.amount))
            .unwrap_or(Amount::MAX)
    }
}

/// The procedures a municipality offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    procedures: Vec<Procedure>,
}

/// The built-in catalogue, parsed once.
static BUILTIN: LazyLock<Catalogue> = LazyLock::new(|| {
    // The file is compiled in and a unit test parses it: a failure here is a build defect.
    Catalogue::parse(BUILTIN_CATALOGUE).expect("the built-in procedure catalogue is valid")
});

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> &'static Catalogue {
        &BUILTIN
    }

    /// Parses and validates a catalogue in the TOML format of `BUILTIN_CATALOGUE`.
    pub fn parse(text: &str) -> Result<Self, PermitsError> {
        Self::parse_layers(&[text])
    }

    /// Parses a base catalogue and overrides applied in order: a procedure with a new code is
    /// added (and must be complete); for an existing code, each key present replaces the
    /// previous value wholesale (e.g. `fees = [...]` replaces the list of fees).
    pub fn parse_layers(layers: &[&str]) -> Result<Self, PermitsError> {
        let mut merged: Vec<ProcedureToml> = Vec::new();
        for (index, text) in layers.iter().enumerate() {
            let layer: CatalogueToml = toml::from_str(text)
                .map_err(|e| PermitsError::Catalogue(format!("layer {}: {e}", index + 1)))?;
            let mut seen = HashSet::new();
            for procedure in layer.procedure {
                if !seen.insert(procedure.code.clone()) {
                    return Err(PermitsError::Catalogue(format!(
                        "layer {}: procedure `{}` appears twice",
                        index + 1,
                        procedure.code
                    )));
                }
                match merged.iter_mut().find(|p| p.code == procedure.code) {
                    Some(existing) => existing.merge(procedure),
                    None => merged.push(procedure),
                }
            }
        }
        let procedures = merged
            .into_iter()
            .map(ProcedureToml::into_procedure)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { procedures })
    }

    /// The built-in catalogue with a municipality's overrides.
    pub fn builtin_with(overrides: &str) -> Result<Self, PermitsError> {
        Self::parse_layers(&[BUILTIN_CATALOGUE, overrides])
    }

    /// Every procedure, in catalogue order.
    pub fn procedures(&self) -> &[Procedure] {
        &self.procedures
    }

    /// The procedure with this code.
    pub fn procedure(&self, code: &str) -> Result<&Procedure, PermitsError> {
        self.procedures
            .iter()
            .find(|p| p.code == code)
            .ok_or_else(|| PermitsError::UnknownProcedure(code.chars().take(40).collect()))
    }
}

// The TOML shape. Serde lives only here, on these private mirrors of the domain types; every
// key is optional so that the same shape serves complete procedures and overrides.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueToml {
    #[serde(default)]
    procedure: Vec<ProcedureToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcedureToml {
    code: String,
    name: Option<TextToml>,
    legal_basis: Option<String>,
    decided_by: Option<TextToml>,
    effective_on_filing: Option<bool>,
    at_deadline: Option<String>,
    phases: Option<Vec<PhaseToml>>,
    integration: Option<IntegrationToml>,
    applicant_deadline: Option<ApplicantDeadlineToml>,
    documents: Option<Vec<DocumentToml>>,
    fields: Option<Vec<FieldToml>>,
    fees: Option<Vec<FeeToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextToml {
    it: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhaseToml {
    code: String,
    name: TextToml,
    days: u16,
    #[serde(default)]
    doubles_when: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntegrationToml {
    effect: String,
    max_requests: Option<u8>,
    within_days: Option<u16>,
    #[serde(default)]
    window_doubles_when: Vec<String>,
    max_suspension_days: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicantDeadlineToml {
    days: u16,
    from_field: String,
    description: TextToml,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentToml {
    code: String,
    name: TextToml,
    required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldToml {
    code: String,
    label: TextToml,
    kind: String,
    required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeeToml {
    code: String,
    name: TextToml,
    amount_cents: i64,
    due: String,
    #[serde(default)]
    stamp: bool,
}

impl ProcedureToml {
    fn merge(&mut self, over: ProcedureToml) {
        fn replace<T>(slot: &mut Option<T>, value: Option<T>) {
            if value.is_some() {
                *slot = value;
            }
        }
        replace(&mut self.name, over.name);
        replace(&mut self.legal_basis, over.legal_basis);
        replace(&mut self.decided_by, over.decided_by);
        replace(&mut self.effective_on_filing, over.effective_on_filing);
        replace(&mut self.at_deadline, over.at_deadline);
        replace(&mut self.phases, over.phases);
        replace(&mut self.integration, over.integration);
        replace(&mut self.applicant_deadline, over.applicant_deadline);
        replace(&mut self.documents, over.documents);
        replace(&mut self.fields, over.fields);
        replace(&mut self.fees, over.fees);
    }

    fn into_procedure(self) -> Result<Procedure, PermitsError> {
        let code = self.code;
        let err = |message: String| PermitsError::Catalogue(format!("procedure `{code}`: {message}"));
        let missing = |key: &str| err(format!("`{key}` is missing"));
        check_code(&code).map_err(&err)?;
        let name = text(self.name.ok_or_else(|| missing("name"))?, "name").map_err(&err)?;
        let legal_basis = self.legal_basis.ok_or_else(|| missing("legal_basis"))?;
        if legal_basis.trim().is_empty() {
            return Err(err("`legal_basis` is empty".into()));
        }
        let decided_by = self.decided_by.ok_or_else(|| missing("decided_by"))?;
        let effective_on_filing = self
            .effective_on_filing
            .ok_or_else(|| missing("effective_on_filing"))?;
        let at_deadline = self.at_deadline.ok_or_else(|| missing("at_deadline"))?;
        let phases = self.phases.ok_or_else(|| missing("phases"))?;
        let integration = self.integration.ok_or_else(|| missing("integration"))?;
        let fields = convert_fields(self.fields.unwrap_or_default()).map_err(&err)?;
        let procedure = Procedure {
            name,
            legal_basis,
            decided_by: text(decided_by, "decided_by").map_err(&err)?,
            effective_on_filing,
            at_deadline: DeadlineEffect::parse(&at_deadline).ok_or_else(|| {
                err(format!(
                    "`at_deadline` `{at_deadline}` is not one of nothing, works-may-start, silent-approval, no-silent-approval"
                ))
            })?,
            phases: convert_phases(phases).map_err(&err)?,
            integration: convert_integration(&integration).map_err(&err)?,
            applicant_deadline: self
                .applicant_deadline
                .map(|deadline| convert_applicant_deadline(deadline, &fields))
                .transpose()
                .map_err(&err)?,
            documents: convert_documents(self.documents.unwrap_or_default()).map_err(&err)?,
            fields,
            fees: convert_fees(self.fees.unwrap_or_default()).map_err(&err)?,
            code: code.clone(),
        };
        check_clock(&procedure).map_err(err)?;
        Ok(procedure)
    }
}

fn convert_phases(phases: Vec<PhaseToml>) -> Result<Vec<Phase>, String> {
    let phases = phases
        .into_iter()
        .map(|phase| {
            check_code(&phase.code)?;
            check_days(phase.days, "phase")?;
            Ok(Phase {
                name: text(phase.name, "phase name")?,
                days: phase.days,
                doubles_when: doublings(&phase.doubles_when)?,
                code: phase.code,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    unique(phases.iter().map(|p| p.code.as_str()), "phase")?;
    Ok(phases)
}

fn convert_integration(integration: &IntegrationToml) -> Result<IntegrationRule, String> {
    Ok(IntegrationRule {
        effect: StopEffect::parse(&integration.effect).ok_or_else(|| {
            format!(
                "integration effect `{}` is not one of none, interrupt, suspend",
                integration.effect
            )
        })?,
        max_requests: integration.max_requests,
        within_days: integration.within_days,
        window_doubles_when: doublings(&integration.window_doubles_when)?,
        max_suspension_days: integration.max_suspension_days,
    })
}

fn convert_documents(documents: Vec<DocumentToml>) -> Result<Vec<DocumentSpec>, String> {
    let documents = documents
        .into_iter()
        .map(|d| {
            check_code(&d.code)?;
            Ok(DocumentSpec {
                name: text(d.name, "document name")?,
                required: d.required,
                code: d.code,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    unique(documents.iter().map(|d| d.code.as_str()), "document")?;
    Ok(documents)
}

fn convert_fields(fields: Vec<FieldToml>) -> Result<Vec<FieldSpec>, String> {
    let fields = fields
        .into_iter()
        .map(|f| {
            check_code(&f.code)?;
            Ok(FieldSpec {
                label: text(f.label, "field label")?,
                kind: FieldKind::parse(&f.kind)
                    .ok_or_else(|| format!("field kind `{}` is unknown", f.kind))?,
                required: f.required,
                code: f.code,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    unique(fields.iter().map(|f| f.code.as_str()), "field")?;
    Ok(fields)
}

fn convert_fees(fees: Vec<FeeToml>) -> Result<Vec<Fee>, String> {
    let fees = fees
        .into_iter()
        .map(|f| {
            check_code(&f.code)?;
            let amount = Amount::from_cents(f.amount_cents).map_err(|e| e.to_string())?;
            if amount.is_zero() {
                return Err(format!("fee `{}` is zero", f.code));
            }
            Ok(Fee {
                name: text(f.name, "fee name")?,
                amount,
                due: FeeDue::parse(&f.due)
                    .ok_or_else(|| format!("fee due `{}` is not filing or issue", f.due))?,
                stamp: f.stamp,
                code: f.code,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    unique(fees.iter().map(|f| f.code.as_str()), "fee")?;
    Ok(fees)
}

fn convert_applicant_deadline(
    deadline: ApplicantDeadlineToml,
    fields: &[FieldSpec],
) -> Result<ApplicantDeadline, String> {
    check_days(deadline.days, "applicant deadline")?;
    let refers_to_date = fields
        .iter()
        .any(|f| f.code == deadline.from_field && f.kind == FieldKind::Date);
    if !refers_to_date {
        return Err(format!(
            "the applicant deadline counts from `{}`, which is not a date field",
            deadline.from_field
        ));
    }
    Ok(ApplicantDeadline {
        days: deadline.days,
        description: text(deadline.description, "applicant deadline description")?,
        from_field: deadline.from_field,
    })
}

/// The consistency rules between clock, deadline effect and integration rules.
fn check_clock(procedure: &Procedure) -> Result<(), String> {
    let integration = &procedure.integration;
    if !procedure.has_clock() && procedure.at_deadline != DeadlineEffect::Nothing {
        return Err(format!(
            "`at_deadline` is {} but there are no phases",
            procedure.at_deadline.as_str()
        ));
    }
    if !procedure.has_clock() && integration.effect != StopEffect::None {
        return Err("integration requests cannot stop a clock that does not exist".into());
    }
    if integration.max_requests == Some(0) {
        return Err("`max_requests` must be at least 1 (leave it out for no limit)".into());
    }
    if let Some(days) = integration.within_days {
        check_days(days, "integration window")?;
    }
    match (integration.effect, integration.max_suspension_days) {
        (StopEffect::Suspend, Some(days)) => check_days(days, "suspension")?,
        (_, Some(_)) => return Err("`max_suspension_days` applies to suspensions only".into()),
        _ => {}
    }
    Ok(())
}

fn text(text: TextToml, what: &str) -> Result<LocalizedText, String> {
    if text.it.trim().is_empty() || text.en.trim().is_empty() {
        return Err(format!("{what} needs both `it` and `en`"));
    }
    Ok(LocalizedText {
        it: text.it,
        en: text.en,
    })
}

/// Codes are lower-case ASCII words joined by `-` or `_`: stable in URLs and JSON.
fn check_code(code: &str) -> Result<(), String> {
    let ok = (1..=40).contains(&code.len())
        && code.as_bytes()[0].is_ascii_lowercase()
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!("`{code}` is not a code (a-z, 0-9, - and _)"))
    }
}

fn check_days(days: u16, what: &str) -> Result<(), String> {
    if (1..=MAX_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(format!("{what} of {days} days is outside 1..={MAX_DAYS}"))
    }
}

fn doublings(texts: &[String]) -> Result<Vec<Doubling>, String> {
    texts
        .iter()
        .map(|t| {
            Doubling::parse(t).ok_or_else(|| format!("`{t}` is not large-municipality or complex-project"))
        })
        .collect()
}

fn unique<'a>(codes: impl Iterator<Item = &'a str>, what: &str) -> Result<(), String> {
    let mut seen = HashSet::new();
    for code in codes {
        if !seen.insert(code) {
            return Err(format!("{what} `{code}` appears twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes of the API contract (issue 6).
    const CODES: [&str; 8] = [
        "cila",
        "scia",
        "scia-alternativa",
        "pdc",
        "agibilita",
        "paesaggistica",
        "suolo-pubblico",
        "passo-carrabile",
    ];

    #[test]
    fn the_builtin_catalogue_has_every_procedure_of_the_contract() {
        let catalogue = Catalogue::parse(BUILTIN_CATALOGUE).unwrap();
        let codes: Vec<&str> = catalogue.procedures().iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, CODES);
        assert_eq!(&catalogue, Catalogue::builtin());
        for procedure in catalogue.procedures() {
            assert!(!procedure.documents.is_empty(), "{}", procedure.code);
            assert!(!procedure.fields.is_empty(), "{}", procedure.code);
            assert!(!procedure.fees.is_empty(), "{}", procedure.code);
        }
    }

    #[test]
    fn the_builtin_clocks_follow_the_design_table() {
        let c = Catalogue::builtin();
        let plain = DoublingFacts::default();
        let complex = DoublingFacts {
            complex_project: true,
            ..plain
        };
        let large = DoublingFacts {
            large_municipality: true,
            ..plain
        };
        let p = |code| c.procedure(code).unwrap();

        assert!(!p("cila").has_clock());
        assert!(p("cila").effective_on_filing);
        assert_eq!(p("cila").at_deadline, DeadlineEffect::Nothing);

        assert_eq!(p("scia").total_days(plain), 30);
        assert_eq!(p("scia").integration.effect, StopEffect::Interrupt);
        assert_eq!(p("scia").at_deadline, DeadlineEffect::Nothing);

        assert_eq!(p("scia-alternativa").total_days(plain), 30);
        assert_eq!(p("scia-alternativa").at_deadline, DeadlineEffect::WorksMayStart);
        assert_eq!(p("scia-alternativa").integration.effect, StopEffect::None);

        let pdc = p("pdc");
        assert_eq!(pdc.total_days(plain), 90);
        assert_eq!(pdc.total_days(complex), 150, "only the 60-day review doubles");
        assert_eq!(
            pdc.total_days(large),
            90,
            "see the note on DL 133/2014 in the catalogue"
        );
        assert_eq!(pdc.at_deadline, DeadlineEffect::SilentApproval);
        assert_eq!(pdc.integration.effect, StopEffect::Interrupt);
        assert_eq!(pdc.integration.max_requests, Some(1));
        assert_eq!(pdc.integration.window_for(plain), Some(30));
        assert_eq!(pdc.integration.window_for(complex), Some(60));

        let agibilita = p("agibilita");
        assert!(agibilita.effective_on_filing && !agibilita.has_clock());
        let deadline = agibilita.applicant_deadline.as_ref().unwrap();
        assert_eq!(deadline.from_field, "works_end_date");
        let works_end = jiff::civil::date(2026, 3, 20);
        assert_eq!(deadline.last_day(works_end), Some(jiff::civil::date(2026, 4, 4)));
        assert!(!deadline.is_late(works_end, jiff::civil::date(2026, 4, 4)));
        assert!(deadline.is_late(works_end, jiff::civil::date(2026, 4, 5)));

        let landscape = p("paesaggistica");
        assert_eq!(
            landscape.phases.iter().map(|p| p.days).collect::<Vec<_>>(),
            [40, 45, 20]
        );
        assert_eq!(landscape.at_deadline, DeadlineEffect::NoSilentApproval);
        assert_eq!(landscape.integration.effect, StopEffect::Suspend);

        for code in ["suolo-pubblico", "passo-carrabile"] {
            assert_eq!(p(code).total_days(plain), 30);
            assert_eq!(p(code).at_deadline, DeadlineEffect::NoSilentApproval);
            assert_eq!(p(code).integration.max_suspension_days, Some(30));
            assert_eq!(p(code).integration.max_requests, Some(1));
        }
    }

    #[test]
    fn fees_are_grouped_by_when_they_are_due() {
        let pdc = Catalogue::builtin().procedure("pdc").unwrap();
        assert_eq!(pdc.total_due(FeeDue::Filing).cents(), 21_600);
        assert_eq!(pdc.total_due(FeeDue::Issue).cents(), 1_600);
        assert!(pdc.fees_due(FeeDue::Filing).any(|f| f.stamp));
        assert_eq!(
            Catalogue::builtin()
                .procedure("cila")
                .unwrap()
                .total_due(FeeDue::Issue),
            Amount::ZERO
        );
    }

    #[test]
    fn texts_follow_the_language() {
        let pdc = Catalogue::builtin().procedure("pdc").unwrap();
        assert_eq!(pdc.name.get("it"), "Permesso di costruire");
        assert_eq!(pdc.name.get("en-GB"), "Building permit");
        assert_eq!(pdc.name.get("fr"), "Permesso di costruire");
        assert_eq!(pdc.name.get(""), "Permesso di costruire");
    }

    #[test]
    fn municipalities_override_keys_and_add_procedures() {
        let overrides = r#"
            [[procedure]]
            code = "pdc"
            phases = [
              { code = "review", name = { it = "Istruttoria", en = "Review" }, days = 60, doubles_when = ["large-municipality", "complex-project"] },
              { code = "decision", name = { it = "Provvedimento", en = "Decision" }, days = 30 },
            ]
            fees = [{ code = "secretariat", name = { it = "Diritti", en = "Fee" }, amount_cents = 51600, due = "filing" }]

            [[procedure]]
            code = "dehors"
            name = { it = "Dehors", en = "Outdoor seating" }
            legal_basis = "Regolamento comunale dehors"
            decided_by = { it = "Comune", en = "Municipality" }
            effective_on_filing = false
            at_deadline = "no-silent-approval"
            phases = [{ code = "decision", name = { it = "Provvedimento", en = "Decision" }, days = 45 }]
            integration = { effect = "suspend", max_requests = 1 }
        "#;
        let catalogue = Catalogue::builtin_with(overrides).unwrap();
        let pdc = catalogue.procedure("pdc").unwrap();
        let large = DoublingFacts {
            large_municipality: true,
            complex_project: false,
        };
        assert_eq!(pdc.total_days(large), 150);
        assert_eq!(pdc.fees.len(), 1);
        // Keys not overridden keep the built-in value.
        assert_eq!(pdc.at_deadline, DeadlineEffect::SilentApproval);
        assert_eq!(
            pdc.documents,
            Catalogue::builtin().procedure("pdc").unwrap().documents
        );
        assert_eq!(catalogue.procedure("dehors").unwrap().total_days(large), 45);
        assert_eq!(catalogue.procedures().len(), 9);
    }

    #[test]
    fn invalid_catalogues_are_refused_with_the_reason() {
        let base = |extra: &str| {
            format!(
                r#"
                [[procedure]]
                code = "x"
                name = {{ it = "X", en = "X" }}
                legal_basis = "law"
                decided_by = {{ it = "Comune", en = "Municipality" }}
                effective_on_filing = false
                {extra}
                "#
            )
        };
        let complete = "at_deadline = \"no-silent-approval\"\nphases = [{ code = \"d\", name = { it = \"D\", en = \"D\" }, days = 30 }]\nintegration = { effect = \"none\" }";
        assert!(Catalogue::parse(&base(complete)).is_ok());
        for (extra, needle) in [
            ("", "`at_deadline` is missing"),
            (
                "at_deadline = \"maybe\"\nphases = []\nintegration = { effect = \"none\" }",
                "maybe",
            ),
            (
                "at_deadline = \"silent-approval\"\nphases = []\nintegration = { effect = \"none\" }",
                "no phases",
            ),
            (
                "at_deadline = \"nothing\"\nphases = []\nintegration = { effect = \"interrupt\" }",
                "does not exist",
            ),
            (
                "at_deadline = \"nothing\"\nphases = [{ code = \"d\", name = { it = \"D\", en = \"D\" }, days = 0 }]\nintegration = { effect = \"none\" }",
                "outside",
            ),
            (
                "at_deadline = \"nothing\"\nphases = [{ code = \"d\", name = { it = \"D\", en = \"D\" }, days = 30 }]\nintegration = { effect = \"interrupt\", max_suspension_days = 3 }",
                "suspensions only",
            ),
            (
                "at_deadline = \"nothing\"\nphases = [{ code = \"d\", name = { it = \"D\", en = \"D\" }, days = 30 }]\nintegration = { effect = \"suspend\", max_requests = 0 }",
                "at least 1",
            ),
            (
                "at_deadline = \"nothing\"\nphases = [{ code = \"d\", name = { it = \"D\", en = \"\" }, days = 30 }]\nintegration = { effect = \"none\" }",
                "both",
            ),
            (
                "at_deadline = \"nothing\"\nphases = [{ code = \"d\", name = { it = \"D\", en = \"D\" }, days = 30, doubles_when = [\"rainy\"] }]\nintegration = { effect = \"none\" }",
                "rainy",
            ),
            (
                &format!(
                    "{complete}\nfees = [{{ code = \"f\", name = {{ it = \"F\", en = \"F\" }}, amount_cents = 0, due = \"filing\" }}]"
                ),
                "zero",
            ),
            (
                &format!(
                    "{complete}\nfees = [{{ code = \"f\", name = {{ it = \"F\", en = \"F\" }}, amount_cents = 100, due = \"later\" }}]"
                ),
                "later",
            ),
            (
                &format!(
                    "{complete}\ndocuments = [{{ code = \"d\", name = {{ it = \"D\", en = \"D\" }}, required = true }}, {{ code = \"d\", name = {{ it = \"D\", en = \"D\" }}, required = true }}]"
                ),
                "appears twice",
            ),
            (
                &format!(
                    "{complete}\napplicant_deadline = {{ days = 15, from_field = \"end\", description = {{ it = \"D\", en = \"D\" }} }}"
                ),
                "not a date field",
            ),
            (&format!("{complete}\ncolour = \"blue\""), "colour"),
        ] {
            let error = Catalogue::parse(&base(extra)).unwrap_err().to_string();
            assert!(error.contains(needle), "{needle}: {error}");
        }
        let bad_code = Catalogue::parse("[[procedure]]\ncode = \"Bad Code\"")
            .unwrap_err()
            .to_string();
        assert!(bad_code.contains("is not a code"), "{bad_code}");
        let twice = Catalogue::parse(&format!("{}\n{}", base(complete), base(complete)))
            .unwrap_err()
            .to_string();
        assert!(twice.contains("appears twice"), "{twice}");
        assert!(Catalogue::parse("not toml [").is_err());
        assert_eq!(
            Catalogue::builtin().procedure("nope"),
            Err(PermitsError::UnknownProcedure("nope".into()))
        );
    }
}
