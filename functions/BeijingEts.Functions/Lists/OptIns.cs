using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Lists;

/// <summary>
/// A general reporting unit's application to take part in allowance management from a year (Art. 10 para 1). Once
/// approved it is listed as a key unit, marked voluntary, from <see cref="FromYear"/>; a withdrawal ends that from a
/// later year (<see cref="UntilYear"/>, the last year it takes part).
/// </summary>
public sealed record OptIn(string Id, string Uscc, string District, int FromYear, string Reason, string Status, DateTimeOffset AppliedAt, string AppliedBy,
    string? DecidedBy = null, DateTimeOffset? DecidedAt = null, string? DecisionReasons = null, int? UntilYear = null, DateTimeOffset? WithdrawnAt = null)
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Refused = "refused";

    /// <summary>Whether the unit is managed as a key unit in <paramref name="year"/>.</summary>
    public bool Covers(int year) => Status == Approved && year >= FromYear && (UntilYear is null || year <= UntilYear);
}

/// <summary>The optins table: one partition, a row per application; unit and status as columns for the query.</summary>
public sealed class OptInStore(StorageClients storage)
{
    private KeyedDocuments<OptIn> Rows => new(storage.Table(StorageNames.Tables.OptIns), "optin", o => o.Id, o => [("Uscc", o.Uscc), ("Status", o.Status)]);

    public Task<(OptIn OptIn, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken) => Rows.FindAsync(id, cancellationToken);

    public Task AddAsync(OptIn optIn, CancellationToken cancellationToken) => Rows.AddAsync(optIn, cancellationToken);

    public Task<bool> TryReplaceAsync(OptIn optIn, ETag etag, CancellationToken cancellationToken) => Rows.TryReplaceAsync(optIn, etag, cancellationToken);

    public async Task<IReadOnlyList<OptIn>> ListAsync(string? uscc, string? status, CancellationToken cancellationToken) =>
        (await Rows.QueryAsync([("Uscc", uscc), ("Status", status)], cancellationToken)).OrderBy(o => o.AppliedAt).ToList();

    /// <summary>The units managed as key units in the year by their approved opt-in: what a list of the year marks voluntary.</summary>
    public async Task<IReadOnlySet<string>> VoluntaryAsync(int year, CancellationToken cancellationToken) =>
        (await ListAsync(null, OptIn.Approved, cancellationToken)).Where(o => o.Covers(year)).Select(o => o.Uscc).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// Voluntary participation (Art. 10 para 1): POST /api/units/{uscc}/opt-in (a general reporting unit, from a year not
/// yet listed), GET /api/units/{uscc}/opt-in, POST /api/opt-ins/{id}/decision (regulator: approved or refused, with
/// reasons), POST /api/units/{uscc}/opt-in/withdrawal (the unit, from a future year), GET /api/opt-ins?status=.
/// Lists published from the year on list the unit as key, marked voluntary; the yearly cycle then treats it as key.
/// </summary>
public sealed class OptInEndpoints : IHttpFunction
{
    public sealed record ApplyRequest(int FromYear, string Reason);

    public sealed record DecisionRequest(string Decision, string Reasons);

    public sealed record WithdrawalRequest(int FromYear);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/units/{uscc}/opt-in", ApplyAsync).WithTags("Lists");
        api.MapGet("/units/{uscc}/opt-in", (string uscc, HttpContext http, UnitStore units, OptInStore optIns, CancellationToken ct) =>
            UnitInput.ReadVisibleAsync(uscc, http.User, units, "opt-in", async code => (IReadOnlyList<OptIn>?)await optIns.ListAsync(code, null, ct), _ => "", ct)).WithTags("Lists");
        api.MapPost("/units/{uscc}/opt-in/withdrawal", WithdrawAsync).WithTags("Lists");
        api.MapPost("/opt-ins/{id}/decision", DecideAsync).WithTags("Lists");
        api.MapGet("/opt-ins", async (string? status, OptInStore optIns, CancellationToken ct) =>
            status is null or OptIn.Pending or OptIn.Approved or OptIn.Refused
                ? (Results<Ok<IReadOnlyList<OptIn>>, ProblemHttpResult>)TypedResults.Ok(await optIns.ListAsync(null, status, ct))
                : ProblemHandling.BadRequest($"status must be {OptIn.Pending}, {OptIn.Approved} or {OptIn.Refused}.")).WithTags("Lists");
    }

    private static async Task<Results<Created<OptIn>, ProblemHttpResult>> ApplyAsync(string uscc, ApplyRequest request, HttpContext http, UnitStore units,
        PublishedListStore lists, OptInStore optIns, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "A unit applies to take part itself.", cancellationToken);
        if (unit is null) return problem!;
        var reason = request.Reason?.Trim() ?? "";
        if (reason.Length is 0 or > 4000) return ProblemHandling.BadRequest("reason must say why the unit wants to take part, 1 to 4,000 characters.");
        var thisYear = BeijingTime.Today(clock).Year;
        if (request.FromYear < thisYear || request.FromYear > thisYear + 5) return ProblemHandling.BadRequest($"fromYear must be {thisYear} to {thisYear + 5}.");
        if (await lists.LatestRevisionAsync(request.FromYear, cancellationToken) is not null)
        {
            return Problems.Unprocessable($"The {request.FromYear} list is already published; apply from a year whose list is not ({request.FromYear + 1} or later).");
        }
        // A general reporting unit: on the latest list it appears on, in that category.
        var latest = await LatestEntryAsync(unit.Uscc, thisYear, lists, cancellationToken);
        if (latest?.Category != Categories.Reporting)
        {
            return Problems.Unprocessable($"Unit {unit.Uscc} is {(latest is null ? "on no recent list" : "a key unit already")}; general reporting units opt in to allowance management (Art. 10).");
        }
        var existing = await optIns.ListAsync(unit.Uscc, null, cancellationToken);
        if (existing.FirstOrDefault(o => o.Status == OptIn.Pending || (o.Status == OptIn.Approved && o.UntilYear is null)) is { } open)
        {
            return Problems.Conflict($"Unit {unit.Uscc} already has opt-in {open.Id} ({open.Status}, from {open.FromYear}).");
        }
        var actor = Actor.From(http.User);
        var optIn = new OptIn(PlatformIds.New(), unit.Uscc, unit.District, request.FromYear, reason, OptIn.Pending, clock.GetUtcNow(), actor.Id);
        await optIns.AddAsync(optIn, cancellationToken);
        await audit.RecordAsync(actor, "opt-in.applied", $"units/{unit.Uscc}/opt-in", null, optIn, cancellationToken);
        return TypedResults.Created($"/api/units/{unit.Uscc}/opt-in", optIn);
    }

    private static async Task<ListEntry?> LatestEntryAsync(string uscc, int thisYear, PublishedListStore lists, CancellationToken cancellationToken)
    {
        for (var year = thisYear + 1; year >= thisYear - 3; year--)
        {
            if (await lists.LatestRevisionAsync(year, cancellationToken) is { } revision && await lists.EntryAsync(year, revision.Revision, uscc, cancellationToken) is { } entry)
            {
                return entry;
            }
        }
        return null;
    }

    private static async Task<Results<Ok<OptIn>, ProblemHttpResult>> DecideAsync(string id, DecisionRequest request, HttpContext http, OptInStore optIns, AuditLog audit,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        if (request.Decision is not (OptIn.Approved or OptIn.Refused)) return ProblemHandling.BadRequest($"decision must be '{OptIn.Approved}' or '{OptIn.Refused}'.");
        var reasons = request.Reasons?.Trim() ?? "";
        if (reasons.Length is 0 or > 4000) return ProblemHandling.BadRequest("reasons must say why, 1 to 4,000 characters.");
        if (await optIns.FindAsync(id, cancellationToken) is not var (optIn, etag)) return ProblemHandling.NotFound($"No opt-in {id}.");
        if (optIn.Status != OptIn.Pending) return Problems.Conflict($"Opt-in {id} is already {optIn.Status}.");
        var actor = Actor.From(http.User);
        var decided = optIn with { Status = request.Decision, DecidedBy = actor.Id, DecidedAt = clock.GetUtcNow(), DecisionReasons = reasons };
        if (!await optIns.TryReplaceAsync(decided, etag, cancellationToken)) return Problems.Conflict($"Opt-in {id} was decided at the same moment by another call.");
        await audit.RecordAsync(actor, $"opt-in.{request.Decision}", $"units/{optIn.Uscc}/opt-in", optIn, decided, cancellationToken);
        return TypedResults.Ok(decided);
    }

    private static async Task<Results<Ok<OptIn>, ProblemHttpResult>> WithdrawAsync(string uscc, WithdrawalRequest request, HttpContext http, UnitStore units,
        OptInStore optIns, PublishedListStore lists, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "A unit withdraws its own opt-in.", cancellationToken);
        if (unit is null) return problem!;
        var thisYear = BeijingTime.Today(clock).Year;
        if (request.FromYear <= thisYear) return ProblemHandling.BadRequest($"A unit withdraws only from a future year: fromYear must be after {thisYear}.");
        var approved = (await optIns.ListAsync(unit.Uscc, OptIn.Approved, cancellationToken)).FirstOrDefault(o => o.UntilYear is null);
        if (approved is null) return ProblemHandling.NotFound($"Unit {unit.Uscc} has no approved opt-in to withdraw.");
        if (request.FromYear <= approved.FromYear) return ProblemHandling.BadRequest($"The opt-in runs from {approved.FromYear}; withdraw from a later year, or ask the regulator.");
        if (await lists.LatestRevisionAsync(request.FromYear, cancellationToken) is not null)
        {
            return Problems.Unprocessable($"The {request.FromYear} list is already published with the unit as key; withdraw from {request.FromYear + 1} or later.");
        }
        var (current, etag) = (await optIns.FindAsync(approved.Id, cancellationToken))!.Value;
        var withdrawn = current with { UntilYear = request.FromYear - 1, WithdrawnAt = clock.GetUtcNow() };
        if (!await optIns.TryReplaceAsync(withdrawn, etag, cancellationToken)) return Problems.Conflict($"Opt-in {approved.Id} changed at the same moment; ask again.");
        await audit.RecordAsync(Actor.From(http.User), "opt-in.withdrawn", $"units/{unit.Uscc}/opt-in", current, withdrawn, cancellationToken);
        return TypedResults.Ok(withdrawn);
    }
}
