using System.Globalization;
using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Reporting;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Reporting;

/// <summary>
/// One revision of a unit's data for one month (Art. 21 para 3, Art. 22 para 2): the month's fuels, processes, purchased
/// energy and activity with the supporting materials they rest on, and the emissions they come to on the factors of
/// <see cref="FactorsYear"/> (the month's year, or the year before while the month's year has none). Never overwritten:
/// a correction is the next revision.
/// </summary>
public sealed record MonthlyRecord(
    string Uscc, string Month, int Revision, DateTimeOffset SubmittedAt, string SubmittedBy, DateOnly RetainUntil,
    IReadOnlyList<FuelUse> Fuels, IReadOnlyList<ProcessEmission> Processes, decimal PurchasedElectricityMWh, decimal PurchasedHeatGJ,
    decimal NonFossilElectricityMWh, string? NonFossilEvidence, IReadOnlyList<ActivityLine> Activity, IReadOnlyList<string> SupportingMaterials,
    int FactorsYear, Tonnes DirectEmissionsT, Tonnes IndirectEmissionsT, Tonnes TotalEmissionsT);

public enum MonthStatus
{
    Reported,
    /// <summary>The month has ended and nothing is reported for it: a gap.</summary>
    Missing,
    NotYetDue,
}

/// <summary>The monthlydata table: partition {uscc}-{yyyy}, one immutable row per month and revision ({MM}-r{000001}).</summary>
public sealed class MonthlyDataStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.MonthlyData);

    private static string Partition(string uscc, int year) => $"{uscc}-{DocumentRows.YearKey(year)}";

    private static string Key(int month, int revision) => $"{month:D2}-r{revision:D6}";

    /// <summary>Adds the month's next revision; two submissions at once get two numbers.</summary>
    public async Task<MonthlyRecord> AddAsync(string uscc, int year, int month, Func<int, MonthlyRecord> revision, CancellationToken cancellationToken)
    {
        while (true)
        {
            var latest = (await ReadYearAsync(uscc, year, cancellationToken)).GetValueOrDefault(month)?.Revision ?? 0;
            var next = revision(latest + 1);
            try
            {
                await Table.AddEntityAsync(DocumentRows.Entity(Partition(uscc, year), Key(month, next.Revision), next), cancellationToken);
                return next;
            }
            catch (RequestFailedException error) when (error.Status == 409)
            {
                // another submission took this revision number: take the next
            }
        }
    }

    /// <summary>The latest revision of each reported month of the year.</summary>
    public async Task<IReadOnlyDictionary<int, MonthlyRecord>> ReadYearAsync(string uscc, int year, CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<MonthlyRecord>(Partition(uscc, year), cancellationToken))
            .GroupBy(r => int.Parse(r.Month[5..], CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.MaxBy(r => r.Revision)!);

    public Task<MonthlyRecord?> FindAsync(string uscc, int year, int month, int revision, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<MonthlyRecord>(Partition(uscc, year), Key(month, revision), cancellationToken);
}

/// <summary>
/// PUT /api/units/{uscc}/monthly/{yyyy-MM} (the unit): a key unit's, or a civil-aviation unit's, data for a month that
/// has ended, with its supporting materials (Art. 21 para 3, Art. 22 para 2); each PUT a new revision. GET
/// /api/units/{uscc}/monthly?year=: every month of the year, the gaps marked; GET .../monthly/{yyyy-MM}[?revision=n]: one
/// month (the unit, its district, the regulator).
/// </summary>
public sealed class MonthlyDataEndpoints : IHttpFunction
{
    public const int MaxSupportingMaterials = 50;

    public sealed record Request(
        IReadOnlyList<FuelUse> Fuels,
        IReadOnlyList<ActivityLine>? Activity = null,
        IReadOnlyList<ProcessEmission>? Processes = null,
        decimal PurchasedElectricityMWh = 0,
        decimal PurchasedHeatGJ = 0,
        decimal NonFossilElectricityMWh = 0,
        string? NonFossilEvidence = null,
        IReadOnlyList<string>? SupportingMaterials = null);

    public sealed record MonthView(string Month, MonthStatus Status, int? Revision, Tonnes? TotalEmissionsT, DateTimeOffset? SubmittedAt);

    public sealed record YearView(string Unit, int Year, IReadOnlyList<MonthView> Months, IReadOnlyList<string> Gaps);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPut("/units/{uscc}/monthly/{month}", PutAsync).WithTags("Reports");
        api.MapGet("/units/{uscc}/monthly", ListAsync).WithTags("Reports");
        api.MapGet("/units/{uscc}/monthly/{month}", GetAsync).WithTags("Reports");
    }

    private static bool TryMonth(string text, out int year, out int month, out ProblemHttpResult? problem)
    {
        problem = null;
        if (DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first) && first.Year is >= 2013 and <= 2100)
        {
            (year, month) = (first.Year, first.Month);
            return true;
        }
        (year, month) = (0, 0);
        problem = ProblemHandling.BadRequest($"'{text}' is not a month: give it as yyyy-MM, such as 2026-03, from 2013 to 2100.");
        return false;
    }

    private static async Task<Results<Created<MonthlyRecord>, ProblemHttpResult>> PutAsync(
        string uscc, string month, Request request, HttpContext http, UnitStore units, ReportingUnits reporting, EmissionFactorStore factorStore,
        MonthlyDataStore monthly, Supervision.DistrictCheckService checks, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "Monthly data is submitted by the unit itself.", cancellationToken);
        if (unit is null) return problem!;
        if (!TryMonth(month, out var year, out var monthNumber, out var badMonth)) return badMonth!;
        var firstDayAfter = new DateOnly(year, monthNumber, 1).AddMonths(1);
        if (BeijingTime.Today(clock) < firstDayAfter) return Problems.Unprocessable($"The data for {month} can be submitted once the month has ended, from {firstDayAfter:yyyy-MM-dd}.");
        var entry = await reporting.EntryAsync(unit.Uscc, year, cancellationToken) ?? await reporting.EntryAsync(unit.Uscc, year - 1, cancellationToken);
        if (entry is null || (entry.Category != Categories.Key && unit.Industry != "aviation"))
        {
            return Problems.Unprocessable($"Unit {unit.Uscc} is not a key unit or a civil-aviation unit on the {year} list (or, before it is published, the {year - 1} list); those units report monthly data (Art. 21, 22).");
        }
        var materials = (request.SupportingMaterials ?? []).Select(m => m?.Trim() ?? "").ToList();
        var problems = new List<string>();
        if (materials.Count > MaxSupportingMaterials) problems.Add($"supportingMaterials has {materials.Count} entries; give at most {MaxSupportingMaterials}.");
        for (var i = 0; i < materials.Count; i++)
        {
            if (materials[i].Length is 0 or > ReportLimits.MaxText) problems.Add($"supportingMaterials[{i}] must be a reference or link of 1 to {ReportLimits.MaxText} characters.");
        }
        var (factorsYear, factors) = await FactorsAsync(factorStore, year, cancellationToken);
        if (factors is null) return Problems.Unprocessable($"No emission factors are set for {year} or {year - 1}; the regulator sets them with PUT /api/reference/{year}/emission-factors.");

        var actor = Actor.From(http.User);
        var data = new AnnualReport(request.Fuels.Select(f => f with { Unit = f.Unit?.Trim() ?? "" }).ToList(), request.Processes ?? [], request.PurchasedElectricityMWh,
            request.PurchasedHeatGJ, request.NonFossilElectricityMWh, request.NonFossilEvidence, request.Activity ?? [], new Declaration(actor.Id, "monthly data"));
        problems.AddRange(EmissionCalculation.ValidateFigures(data, factors));
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        var result = EmissionCalculation.Compute(data, factors);
        var now = clock.GetUtcNow();
        var label = $"{year:D4}-{monthNumber:D2}";
        var added = await monthly.AddAsync(unit.Uscc, year, monthNumber, revision => new MonthlyRecord(unit.Uscc, label, revision, now, actor.Id, Retention.Until(now),
            data.Fuels, data.Processes, data.PurchasedElectricityMWh, data.PurchasedHeatGJ, data.NonFossilElectricityMWh, data.NonFossilEvidence?.Trim(), data.Activity,
            materials, factorsYear, result.DirectEmissionsT, result.IndirectEmissionsT, result.TotalEmissionsT), cancellationToken);
        await audit.RecordAsync(actor, "monthly-data.submitted", $"units/{unit.Uscc}/monthly/{label}", null, new { added.Revision, added.TotalEmissionsT }, cancellationToken);
        // Art. 23 para 2: the district checks a key unit's month against its supporting materials and its plan.
        if (entry.Category == Categories.Key) await checks.MonthlyRevisionAsync(added, unit.District, cancellationToken);
        return TypedResults.Created($"/api/units/{unit.Uscc}/monthly/{label}?revision={added.Revision}", added);
    }

    /// <summary>The month's year's factors, or while that year has none the year before's.</summary>
    private static async Task<(int Year, EmissionFactors? Factors)> FactorsAsync(EmissionFactorStore store, int year, CancellationToken cancellationToken) =>
        await store.FindAsync(year, cancellationToken) is { } factors ? (year, factors) : (year - 1, await store.FindAsync(year - 1, cancellationToken));

    private static async Task<Results<Ok<YearView>, ProblemHttpResult>> ListAsync(
        string uscc, int? year, HttpContext http, UnitStore units, MonthlyDataStore monthly, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (year is not (>= 2013 and <= 2100)) return ProblemHandling.BadRequest("Give the year, from 2013 to 2100: ?year=yyyy.");
        return await UnitInput.ReadVisibleAsync(uscc, http.User, units, "monthly data", async code =>
        {
            var reported = await monthly.ReadYearAsync(code, year.Value, cancellationToken);
            var today = BeijingTime.Today(clock);
            var months = Enumerable.Range(1, 12).Select(m =>
            {
                var label = $"{year:D4}-{m:D2}";
                if (reported.TryGetValue(m, out var r)) return new MonthView(label, MonthStatus.Reported, r.Revision, r.TotalEmissionsT, r.SubmittedAt);
                var ended = new DateOnly(year.Value, m, 1).AddMonths(1) <= today;
                return new MonthView(label, ended ? MonthStatus.Missing : MonthStatus.NotYetDue, null, null, null);
            }).ToList();
            return new YearView(code, year.Value, months, months.Where(m => m.Status == MonthStatus.Missing).Select(m => m.Month).ToList());
        }, _ => "", cancellationToken);
    }

    private static async Task<Results<Ok<MonthlyRecord>, ProblemHttpResult>> GetAsync(
        string uscc, string month, int? revision, HttpContext http, UnitStore units, MonthlyDataStore monthly, CancellationToken cancellationToken)
    {
        if (!TryMonth(month, out var year, out var monthNumber, out var badMonth)) return badMonth!;
        return await UnitInput.ReadVisibleAsync(uscc, http.User, units, "monthly data",
            async code => revision is { } n
                ? await monthly.FindAsync(code, year, monthNumber, n, cancellationToken)
                : (await monthly.ReadYearAsync(code, year, cancellationToken)).GetValueOrDefault(monthNumber),
            code => revision is null ? $"Unit {code} has reported no data for {month}." : $"Unit {code}'s data for {month} has no revision {revision}.", cancellationToken);
    }
}
