using BeijingEts.Domain.Reporting;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Reporting;

/// <summary>
/// PUT /api/units/{uscc}/reports/{year} (the unit itself; carbon emission units on that year's list, once the year has
/// ended): the annual report (Art. 21). The server computes every figure from the year's emission factors; each PUT is
/// a new immutable version (201, with its location), kept at least 5 years (Art. 22).
/// </summary>
public sealed class PutAnnualReport : IHttpFunction
{
    public sealed record Request(
        IReadOnlyList<FuelUse> Fuels,
        IReadOnlyList<ActivityLine> Activity,
        Declaration Declaration,
        IReadOnlyList<ProcessEmission>? Processes = null,
        decimal PurchasedElectricityMWh = 0,
        decimal PurchasedHeatGJ = 0,
        decimal NonFossilElectricityMWh = 0,
        string? NonFossilEvidence = null);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPut("/units/{uscc}/reports/{year:int}", HandleAsync).WithTags("Reports");

    private static async Task<Results<Created<ReportVersion>, ProblemHttpResult>> HandleAsync(
        string uscc, int year, Request request, HttpContext http, UnitStore units, ReportingUnits reporting, EmissionFactorStore factorStore,
        ReportStore reports, Supervision.DistrictCheckService checks, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        // The unit, its list entry and the year's factors are read at once; the answers keep their order (404, year, list, factors).
        var yearRefused = reporting.RefuseYear(year);
        var code = UnitInput.TryParse(uscc, out var parsed, out _) ? parsed : uscc;
        var entryRead = yearRefused is null ? reporting.RecentEntryAsync(code, year, cancellationToken) : Task.FromResult<ListEntry?>(null);
        var factorsRead = yearRefused is null ? factorStore.CurrentAsync(year, cancellationToken) : Task.FromResult<EmissionFactors?>(null);
        // The unit as read in the last 30 s: only the unit itself may call (its token decides, not the row); units are never
        // deleted, and one just registered is read at once; the status is not asked (the list says who reports); the district
        // only says whose queue a general reporting unit's check goes to, and a move made on another instance counts from
        // at most 30 s later, on this one at once (a change is registered up to 20 working days after the fact anyway, Art. 8).
        var unitRead = UnitInput.FindVisibleAsync(uscc, http.User, units, "Annual reports are submitted by the unit itself.", cancellationToken, recent: true);
        await Task.WhenAll(entryRead, factorsRead, unitRead);
        var (unit, problem) = unitRead.Result;
        if (unit is null) return problem!;
        if (yearRefused is not null) return yearRefused;
        if (entryRead.Result is not { } entry) return ReportingUnits.NotListed(unit.Uscc, year);
        if (factorsRead.Result is not { } factors) return Problems.Unprocessable($"No emission factors are set for {year}; the regulator sets them with PUT /api/reference/{year}/emission-factors before {year} reports can be computed.");

        var report = new AnnualReport(request.Fuels.Select(f => f with { Unit = f.Unit.Trim() }).ToList(), request.Processes ?? [], request.PurchasedElectricityMWh,
            request.PurchasedHeatGJ, request.NonFossilElectricityMWh, request.NonFossilEvidence, request.Activity, request.Declaration);
        var problems = EmissionCalculation.Validate(report, factors);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        var result = EmissionCalculation.Compute(report, factors);
        var actor = Actor.From(http.User);
        var now = clock.GetUtcNow();
        var (added, correctionsAsked) = await reports.AddAsync(unit.Uscc, year, version => new ReportVersion(unit.Uscc, year, version, now, actor.Id, Retention.Until(now),
            result.DirectEmissionsT, result.IndirectEmissionsT, result.TotalEmissionsT, result, report), cancellationToken);
        // A general reporting unit's report is checked by its district (Art. 23); a key unit's new version answers a correction its district asked for.
        await Task.WhenAll(
            audit.RecordAsync(actor, "report.submitted", $"units/{unit.Uscc}/reports/{year}", null,
                new { added.Version, added.DirectEmissionsT, added.IndirectEmissionsT, added.TotalEmissionsT }, cancellationToken),
            checks.ReportFiledAsync(unit.Uscc, unit.District, year, added.Version, general: entry.Category == Categories.Reporting, correctionsAsked, cancellationToken));
        return TypedResults.Created($"/api/units/{unit.Uscc}/reports/{year}/versions/{added.Version}", added);
    }
}

/// <summary>Who reports for a year: a carbon emission unit on that year's published list, once the year is over.</summary>
public sealed class ReportingUnits(PublishedListStore lists, TimeProvider clock)
{
    public async Task<ProblemHttpResult?> RefuseAsync(string uscc, int year, CancellationToken cancellationToken) => (await ReportingEntryAsync(uscc, year, cancellationToken)).Problem;

    /// <summary>The unit's entry on the year's list if it reports for the year now; else why not.</summary>
    public async Task<(ListEntry? Entry, ProblemHttpResult? Problem)> ReportingEntryAsync(string uscc, int year, CancellationToken cancellationToken)
    {
        if (RefuseYear(year) is { } refused) return (null, refused);
        return await EntryAsync(uscc, year, cancellationToken) is { } entry ? (entry, null) : (null, NotListed(uscc, year));
    }

    /// <summary>Why no report can be made for the year now, if none can: the year is out of range or not over yet.</summary>
    public ProblemHttpResult? RefuseYear(int year) =>
        year is < 2013 or > 2100 ? ProblemHandling.BadRequest($"Year {year} is out of range (2013 to 2100).")
        : BeijingTime.Today(clock).Year <= year ? Problems.Unprocessable($"The {year} report can be submitted once {year} has ended, from {year + 1}-01-01.")
        : null;

    public static ProblemHttpResult NotListed(string uscc, int year) =>
        Problems.Unprocessable($"Unit {uscc} is not on the published {year} list; only the carbon emission units listed for {year} report for it (Art. 21).");

    /// <summary>The unit's entry in the latest published list of the year, if any.</summary>
    public async Task<ListEntry?> EntryAsync(string uscc, int year, CancellationToken cancellationToken)
    {
        var revision = await lists.LatestRevisionAsync(year, cancellationToken);
        return revision is null ? null : await lists.EntryAsync(year, revision.Revision, uscc, cancellationToken);
    }

    /// <summary>
    /// <see cref="EntryAsync"/> on the latest revision as read within <see cref="PublishedListStore.RecentFor"/>: a report
    /// submission's, many a second in a reporting season (a revision published on another instance counts from then on).
    /// </summary>
    public async Task<ListEntry?> RecentEntryAsync(string uscc, int year, CancellationToken cancellationToken)
    {
        var revision = await lists.RecentRevisionAsync(year, cancellationToken);
        return revision is null ? null : await lists.EntryAsync(year, revision.Revision, uscc, cancellationToken);
    }
}

/// <summary>GET /api/units/{uscc}/reports/{year}: the latest version; .../versions/{n}: any version (the unit, its district, the regulator).</summary>
public sealed class GetAnnualReport : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/units/{uscc}/reports/{year:int}", (string uscc, int year, HttpContext http, UnitStore units, ReportStore reports, CancellationToken ct) =>
            FindAsync(uscc, year, null, http, units, reports, ct)).WithTags("Reports");
        api.MapGet("/units/{uscc}/reports/{year:int}/versions/{version:int}", (string uscc, int year, int version, HttpContext http, UnitStore units, ReportStore reports, CancellationToken ct) =>
            FindAsync(uscc, year, version, http, units, reports, ct)).WithTags("Reports");
    }

    private static Task<Results<Ok<ReportVersion>, ProblemHttpResult>> FindAsync(
        string uscc, int year, int? version, HttpContext http, UnitStore units, ReportStore reports, CancellationToken cancellationToken) =>
        UnitInput.ReadVisibleAsync(uscc, http.User, units, "reports",
            code => version is { } n ? reports.FindAsync(code, year, n, cancellationToken) : reports.FindLatestAsync(code, year, cancellationToken),
            code => version is null ? $"Unit {code} has not reported for {year}." : $"Unit {code}'s {year} report has no version {version}.", cancellationToken);
}
