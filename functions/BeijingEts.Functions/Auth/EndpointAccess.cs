using System.Text.RegularExpressions;
using static BeijingEts.Functions.Auth.Roles;

namespace BeijingEts.Functions.Auth;

/// <summary>How a caller's scope claim is held against the resource an endpoint names.</summary>
public enum ScopeKind
{
    /// <summary>The role is enough (or the scope is the caller's own: orders, deals, bids list only the caller's).</summary>
    None,
    /// <summary>The route value is a unit's USCC: the unit itself (else 404), the unit's district bureau (else 403), any other declared role.</summary>
    Unit,
    /// <summary>The route value is a verification body's USCC: a verifier only for its own id (else 404: a body does not learn of another).</summary>
    Verifier,
    /// <summary>The route value is an account or funds holder: a unit or participant only for its own (else 404, as the handlers answer).</summary>
    Holder,
    /// <summary>The route value is a district: a district bureau only for its own (else 403).</summary>
    District,
    /// <summary>The handler checks the scope on the resource it loads (a removal's unit, an order's trader).</summary>
    Loaded,
}

/// <summary>One endpoint's declaration: who may call it, and which route value their scope must match.</summary>
public sealed record EndpointRule(string Method, string Route, IReadOnlyList<string> Roles, ScopeKind Scope = ScopeKind.None, string? RouteValue = null)
{
    public bool IsAnonymous => Roles.Count == 0;

    public string Key => $"{Method} {Route}";

    /// <summary>The route value the caller's scope is held against: a unit's USCC and so on.</summary>
    public EndpointRule ForUnit(string routeValue = "uscc") => this with { Scope = ScopeKind.Unit, RouteValue = routeValue };

    public EndpointRule ForVerifier(string routeValue = "uscc") => this with { Scope = ScopeKind.Verifier, RouteValue = routeValue };

    public EndpointRule ForHolder(string routeValue) => this with { Scope = ScopeKind.Holder, RouteValue = routeValue };

    public EndpointRule ForDistrict(string routeValue = "district") => this with { Scope = ScopeKind.District, RouteValue = routeValue };

    public EndpointRule CheckedOnLoad() => this with { Scope = ScopeKind.Loaded };
}

/// <summary>
/// Who may call each /api endpoint, in one table (routes relative to /api, without route constraints). Mapping an
/// endpoint that has no line here stops the app at start-up, naming the route. Printed in the README's role matrix.
/// </summary>
public static partial class EndpointAccess
{
    private static readonly string[] Anyone = All;
    private static readonly string[] UnitReaders = [Regulator, District, Unit];
    private static readonly string[] Traders = [Unit, Participant];
    private static readonly string[] MarketViewers = [Exchange, Regulator, Unit, Participant];

    public static readonly IReadOnlyList<EndpointRule> Rules =
    [
        Public("GET /health"),
        Allow("GET /audit", Regulator),
        // Two regulators for what can't be undone: the proposer may not decide its own proposal (checked on the proposal)
        Allow("POST /approvals/{proposalId}/approve", Regulator).CheckedOnLoad(),
        Allow("POST /approvals/{proposalId}/reject", Regulator).CheckedOnLoad(),
        Allow("GET /approvals", Regulator),
        Allow("GET /approvals/{proposalId}", Regulator),
        Allow("GET /runtime/functions", Regulator),

        Allow("PUT /calendar/{year}", Regulator),
        Allow("GET /calendar/{year}", Anyone),
        Allow("GET /calendar/days/{date}", Anyone),
        Allow("GET /calendar/add-working-days", Anyone),

        // Notices: each party its own inbox and contacts; the regulator keeps anyone's contacts and sees the dead letters
        Allow("GET /notifications", Anyone),
        Allow("POST /notifications/{id}/read", Anyone),
        Allow("GET /notifications/dead-letters", Regulator),
        Allow("POST /notifications/dead-letters/retry", Regulator),
        Allow("GET /parties/{party}/contacts", Anyone).CheckedOnLoad(),
        Allow("PUT /parties/{party}/contacts", Anyone).CheckedOnLoad(),

        // Ch. 2: units, lists, removals
        Allow("PUT /units/{uscc}", Regulator),
        Allow("GET /units/{uscc}", UnitReaders).ForUnit(),
        Allow("POST /units/{uscc}/changes", Unit, Regulator).ForUnit(),
        Allow("GET /units/{uscc}/changes", UnitReaders).ForUnit(),
        Allow("PUT /lists/rules/{fromYear}", Regulator),
        Allow("GET /lists/rules/{year}", Anyone),
        Allow("PUT /units/{uscc}/statistics/{year}", Regulator),
        Allow("GET /units/{uscc}/statistics/{year}", UnitReaders).ForUnit(),
        Allow("POST /lists/{year}/statistics", Regulator),
        Allow("POST /lists/{year}/publish", Regulator),
        Public("GET /lists/{year}"),
        Allow("POST /units/{uscc}/removals", Unit, District).ForUnit(),
        Allow("POST /removals/{id}/district-confirmation", District).CheckedOnLoad(),
        Allow("POST /removals/{id}/confirmation", Regulator),
        Allow("POST /removals/{id}/rejection", District, Regulator).CheckedOnLoad(),
        Allow("GET /removals/{id}", UnitReaders).CheckedOnLoad(),
        Allow("POST /changes/{id}/district-confirmation", District).CheckedOnLoad(), // Art. 8: a merger or split waits for its district
        Allow("POST /changes/{id}/confirmation", Regulator),
        Allow("POST /changes/{id}/rejection", District, Regulator).CheckedOnLoad(),
        Allow("GET /changes/{id}", UnitReaders).CheckedOnLoad(),

        // Ch. 3: the allowance ledger
        Allow("POST /ledger/transactions", Regulator, Exchange, Unit).CheckedOnLoad(),
        Allow("GET /ledger/transactions/{transactionId}", Anyone).CheckedOnLoad(),
        Allow("GET /ledger/check", Regulator),
        Allow("GET /accounts/{accountId}", Regulator, Unit, Participant).ForHolder("accountId"),
        Allow("GET /accounts/{accountId}/journal", Regulator, Unit, Participant).ForHolder("accountId"),
        Allow("GET /units/{uscc}/account", Regulator, Unit, Participant).ForHolder("uscc"),
        Allow("PUT /participants/{uscc}", Regulator, Registry),
        // Art. 13, 17: account applications; personal data shown to the registry only (others masked)
        Allow("POST /account-applications", Registry, Participant).CheckedOnLoad(), // an organisation for itself; the registry for anyone
        Allow("GET /account-applications", Registry, Regulator),
        Allow("GET /account-applications/{id}", Registry, Regulator, Participant).CheckedOnLoad(),
        Allow("POST /account-applications/{id}/decision", Registry),
        Allow("POST /accounts/{accountId}/suspensions", Regulator, Registry),
        Allow("POST /accounts/{accountId}/suspensions/{suspensionId}/lift", Regulator), // the regulator's supervisory power (Art. 16): the registry does not lift
        Allow("POST /accounts/{accountId}/closure", Regulator, Unit, Participant, Registry).ForHolder("accountId"),

        // Art. 12-15: allocation
        Allow("PUT /allocation/{year}/plan", Regulator),
        Allow("GET /allocation/{year}/plan", Anyone),
        Allow("POST /allocation/{year}/pre-allocation", Regulator),
        Allow("POST /allocation/{year}/verified-allocation", Regulator),
        Allow("GET /allocation/{year}/units/{uscc}", UnitReaders).ForUnit(),
        Allow("POST /allocation/{year}/units/{uscc}/objections", Unit).ForUnit(),
        Allow("POST /objections/{id}/decision", Regulator),
        Allow("GET /objections/{id}", UnitReaders).CheckedOnLoad(),

        // Art. 21-23: reports and monthly data
        Allow("PUT /reference/{year}/emission-factors", Regulator),
        Allow("GET /reference/{year}/emission-factors", Anyone),
        Allow("PUT /units/{uscc}/reports/{year}", Unit).ForUnit(), // Art. 21: the unit itself reports; the regulator and districts read
        Allow("GET /units/{uscc}/reports/{year}", UnitReaders).ForUnit(),
        Allow("GET /units/{uscc}/reports/{year}/versions/{version}", UnitReaders).ForUnit(),
        Allow("POST /units/{uscc}/reports/{year}/attachments", Unit).ForUnit(),
        Allow("GET /units/{uscc}/reports/{year}/attachments", UnitReaders).ForUnit(),
        Allow("POST /units/{uscc}/reports/{year}/confirmation", Regulator),
        Allow("GET /units/{uscc}/reports/{year}/confirmation", UnitReaders).ForUnit(),
        Allow("POST /reports/{year}/sample", Regulator),
        Allow("GET /reports/{year}/samples/{id}", Regulator, District),
        Allow("PUT /units/{uscc}/monthly/{month}", Unit).ForUnit(), // Art. 22: the unit itself submits
        Allow("GET /units/{uscc}/monthly", UnitReaders).ForUnit(),
        Allow("GET /units/{uscc}/monthly/{month}", UnitReaders).ForUnit(),
        Allow("PUT /units/{uscc}/quality-plans/{year}", Unit).ForUnit(), // Art. 22: the key unit files its own plan
        Allow("GET /units/{uscc}/quality-plans/{year}", UnitReaders).ForUnit(),
        Allow("GET /units/{uscc}/quality-plans/{year}/versions/{version}", UnitReaders).ForUnit(),
        Allow("POST /units/{uscc}/quality-plans/{year}/decision", Regulator),
        Allow("GET /units/{uscc}/checks", UnitReaders).ForUnit(),
        Allow("POST /units/{uscc}/quality-plans/{year}/test-reports", Unit).ForUnit(),
        Allow("GET /units/{uscc}/quality-plans/{year}/test-reports", UnitReaders).ForUnit(),

        // Art. 21, 24, 26: verification
        Allow("PUT /verifiers/{uscc}", Regulator),
        Allow("GET /verifiers/{uscc}", Regulator, District, Unit, Verifier).ForVerifier(),
        Allow("GET /verifiers/{uscc}/engagements", Verifier, Regulator).ForVerifier(),
        Allow("POST /verifiers/{uscc}/engagements/{engagementId}/links", Verifier).ForVerifier(), // Art. 24: only the engaged body uploads
        Allow("POST /verifiers/{uscc}/relationships", Regulator),
        Allow("POST /verifiers/{uscc}/evaluations", Regulator),
        Allow("GET /verifiers/{uscc}/eligibility", Regulator, District, Unit).CheckedOnLoad(),
        Allow("POST /units/{uscc}/reports/{year}/verification", Unit, Regulator).ForUnit(),
        Allow("GET /units/{uscc}/reports/{year}/verification", UnitReaders).ForUnit(),

        // Art. 27-29: surrender and compliance
        Allow("POST /units/{uscc}/surrenders/{year}", Unit).ForUnit(),
        Allow("GET /units/{uscc}/surrenders/{year}", UnitReaders).ForUnit(),
        Allow("GET /units/{uscc}/compliance/{year}", UnitReaders).ForUnit(),
        Allow("GET /compliance/{year}", Regulator),

        // Art. 9, 23: district bureaus' checks
        Allow("GET /districts/{district}/checks", Regulator, District).ForDistrict(),
        Allow("GET /checks", Regulator),
        Allow("GET /checks/{checkId}", Regulator, District, Unit).CheckedOnLoad(),
        Allow("POST /checks/{checkId}/findings", District).CheckedOnLoad(),
        Allow("POST /checks/{checkId}/correction-requests", District).CheckedOnLoad(),
        Allow("POST /checks/{checkId}/sign-off", District).CheckedOnLoad(),
        Allow("GET /lists/{year}/district-checks", Regulator),

        // Art. 10 para 1: voluntary participation of general reporting units
        Allow("POST /units/{uscc}/opt-in", Unit).ForUnit(),
        Allow("GET /units/{uscc}/opt-in", UnitReaders).ForUnit(),
        Allow("POST /units/{uscc}/opt-in/withdrawal", Unit).ForUnit(),
        Allow("POST /opt-ins/{id}/decision", Regulator),
        Allow("GET /opt-ins", Regulator),

        // Art. 10 para 2: carbon assessments of new and expanded projects (a unit files its own; the regulator for an owner on no list)
        Allow("POST /projects", Unit, Regulator).CheckedOnLoad(),
        Allow("GET /projects", UnitReaders).CheckedOnLoad(),
        Allow("GET /projects/{id}", UnitReaders).CheckedOnLoad(),
        Allow("POST /projects/{id}/opinion", Regulator),
        Allow("POST /projects/{id}/operation", Unit, Regulator).CheckedOnLoad(),

        // Art. 11-12: allocation adjustment applications and the reserve
        Allow("POST /allocation/{year}/units/{uscc}/adjustments", Unit).ForUnit(),
        Allow("POST /adjustments/{id}/evidence", Unit).CheckedOnLoad(),
        Allow("GET /allocation/{year}/adjustments", UnitReaders).CheckedOnLoad(), // a district its units', a unit its own
        Allow("GET /adjustments/{id}", UnitReaders).CheckedOnLoad(),
        Allow("POST /adjustments/{id}/decision", Regulator),
        Allow("GET /allocation/{year}/reserve", Regulator),

        // Art. 23, 25, 29, 30, 33: enforcement cases; a party sees its own, a district its units' (checked on the loaded case)
        Allow("POST /cases", Regulator, District, Verifier).CheckedOnLoad(), // a district proposes about its units, a body reports about a unit it verifies
        Allow("GET /cases", Regulator, District, Unit, Participant, Verifier).CheckedOnLoad(),
        Allow("GET /cases/{caseId}", Regulator, District, Unit, Participant, Verifier).CheckedOnLoad(),
        Allow("POST /cases/{caseId}/accept", Regulator),
        Allow("POST /cases/{caseId}/requests", Regulator),
        Allow("POST /cases/{caseId}/requests/{number}/documents", Unit, Participant, Verifier).CheckedOnLoad(),
        Allow("POST /cases/{caseId}/inspections", Regulator, District).CheckedOnLoad(),
        Allow("POST /cases/{caseId}/decision", Regulator),
        Allow("POST /cases/{caseId}/close", Regulator),
        Allow("POST /cases/{caseId}/reopen", Regulator),

        // The yearly cycle
        Allow("PUT /cycles/{year}/schedule", Regulator),
        Allow("GET /cycles/{year}/schedule", Anyone),
        Allow("POST /cycles/{year}/start", Regulator),
        Allow("POST /cycles/{year}/pause", Regulator),
        Allow("POST /cycles/{year}/resume", Regulator),
        Allow("POST /cycles/{year}/advance", Regulator),
        Allow("POST /cycles/{year}/retry", Regulator),
        Allow("GET /cycles/{year}", Regulator),
        Allow("GET /cycles/{year}/phases/{name}", Regulator),
        Allow("GET /cycles/{year}/non-compliant", Regulator),

        // Art. 17-20, 34: the market
        Allow("POST /market/funds/{participant}/deposits", Exchange),
        Allow("POST /market/funds/{participant}/withdrawals", Exchange),
        Allow("GET /market/funds/{participant}", [.. MarketViewers, Finance]).ForHolder("participant"), // the finance authorities: the reserve's only
        Allow("GET /market/proceeds", Regulator, Exchange, Finance),
        Allow("POST /auctions/{id}/remittance", Regulator),
        Allow("POST /market/orders", Traders),
        Allow("DELETE /market/orders/{orderId}", Traders).CheckedOnLoad(),
        Allow("GET /market/orders", MarketViewers),
        Allow("GET /market/orders/{orderId}", MarketViewers).CheckedOnLoad(),
        Allow("GET /market/trades", [.. MarketViewers, Finance]),
        Allow("PUT /market/{product}/reference-price", Exchange),
        Public("GET /market/fees"),
        Public("GET /market/{product}/daily"),
        Public("GET /market/{product}/book"),
        Allow("POST /market/negotiated", Traders),
        Allow("POST /market/negotiated/{id}/confirmation", Traders).CheckedOnLoad(),
        Allow("DELETE /market/negotiated/{id}", Traders).CheckedOnLoad(),
        Allow("GET /market/negotiated", MarketViewers),
        Allow("GET /market/negotiated/{id}", MarketViewers).CheckedOnLoad(),
        Allow("POST /auctions", Regulator),
        Allow("GET /auctions", Anyone),
        Allow("GET /auctions/{id}", Anyone),
        Allow("POST /auctions/{id}/bids", Traders),
        Allow("GET /auctions/{id}/bids", MarketViewers),
        Allow("POST /buybacks", Regulator),
        Allow("GET /buybacks", Regulator, Exchange, Finance),
        Allow("DELETE /buybacks/{id}", Regulator),
        Allow("GET /exchange/reports/draft", Exchange),
        Allow("POST /exchange/reports", Exchange),
        Allow("GET /exchange/reports", Exchange, Regulator, Finance),
        Allow("GET /exchange/reports/{id}", Exchange, Regulator, Finance),
        Allow("GET /market/alerts", Regulator),
        Allow("GET /market/surveillance", Regulator),
        Allow("PUT /market/related-parties", Regulator),
        Allow("GET /market/related-parties", Regulator),
        Allow("DELETE /market/related-parties/{a}/{b}", Regulator),

        // Portal: read-only aggregates and a calculation that saves nothing, for the web portal's pages
        Allow("GET /dashboard/{year}/compliance", Regulator),
        Allow("POST /reports/calculate", Unit, Regulator, District, Verifier),
        Allow("GET /verifiers/{uscc}/work", Verifier, Regulator).ForVerifier(),
    ];

    private static readonly Dictionary<string, EndpointRule> ByKey = Rules.ToDictionary(r => r.Key, StringComparer.Ordinal);

    /// <summary>The declaration for a method and a route relative to /api (constraints such as <c>:int</c> are ignored), or null.</summary>
    public static EndpointRule? Find(string method, string route) => ByKey.GetValueOrDefault($"{method.ToUpperInvariant()} {Normalize(route)}");

    /// <summary>"/units/{uscc}/statistics/{year:int}" -> "/units/{uscc}/statistics/{year}", as the OpenAPI document writes it.</summary>
    public static string Normalize(string route)
    {
        var plain = RouteParameter().Replace(route, "{$1}").TrimEnd('/');
        return plain.StartsWith('/') ? plain : "/" + plain;
    }

    [GeneratedRegex(@"\{\**(\w+)[^}]*\}")]
    private static partial Regex RouteParameter();

    /// <summary>The declaration as the README's Markdown table (a test keeps the README equal to it).</summary>
    public static string MarkdownTable()
    {
        var lines = new List<string> { "| endpoint (under `/api`) | who | scope |", "|---|---|---|" };
        foreach (var rule in Rules)
        {
            var who = rule.IsAnonymous ? "anyone, no token" : rule.Roles.Count == All.Length ? "any role" : string.Join(", ", rule.Roles);
            var scope = rule.Scope switch
            {
                ScopeKind.Unit => $"`{{{rule.RouteValue}}}`: the unit itself, the unit's district",
                ScopeKind.Verifier => $"`{{{rule.RouteValue}}}`: the body itself",
                ScopeKind.Holder => $"`{{{rule.RouteValue}}}`: a unit or participant for its own",
                ScopeKind.District => $"`{{{rule.RouteValue}}}`: a district bureau for its own",
                ScopeKind.Loaded => "checked on the loaded resource",
                _ => "",
            };
            lines.Add($"| `{rule.Key}` | {who} | {scope} |");
        }
        return string.Join("\n", lines);
    }

    private static EndpointRule Allow(string endpoint, params string[] roles)
    {
        var (method, route) = Split(endpoint);
        return new EndpointRule(method, route, roles);
    }

    private static EndpointRule Public(string endpoint)
    {
        var (method, route) = Split(endpoint);
        return new EndpointRule(method, route, []);
    }

    private static (string Method, string Route) Split(string endpoint)
    {
        var space = endpoint.IndexOf(' ');
        return (endpoint[..space], endpoint[(space + 1)..]);
    }
}
