using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Cycle;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Files;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Surrender;

/// <summary>
/// Compliance for a year (Art. 27-29): a unit's standing, or every key unit's, from confirmations and surrenders as
/// recorded. It writes nothing: pending surrenders are settled by the ledger's queue and <see cref="SettlePendingSurrenders"/>.
/// </summary>
public sealed class ComplianceService(ConfirmationStore confirmations, SurrenderStore surrenders, CycleScheduleStore schedules, PublishedListStore lists,
    SuccessionObligations successions, TimeProvider clock)
{
    public async Task<ComplianceView> ForUnitAsync(string uscc, int year, CancellationToken cancellationToken)
    {
        var (record, _) = await surrenders.FindAsync(year, uscc, cancellationToken);
        if (record is not null) record = await surrenders.ViewAsync(record, cancellationToken);
        return ComplianceView.Of(uscc, year, await confirmations.FindAsync(year, uscc, cancellationToken), record, await schedules.FindAsync(year, cancellationToken), clock.GetUtcNow(),
            await successions.ForUnitAsync(uscc, year, cancellationToken));
    }

    /// <summary>The named units' standings for the year, read together: a range query per table, not reads per unit.</summary>
    public async Task<IReadOnlyDictionary<string, ComplianceView>> ForUnitsAsync(IReadOnlyCollection<string> units, int year, CancellationToken cancellationToken)
    {
        var surrendered = surrenders.FindManyAsync(year, units, cancellationToken);
        var confirmed = confirmations.FindManyAsync(year, units, cancellationToken);
        var schedule = await schedules.FindAsync(year, cancellationToken);
        var yearSuccessions = await successions.ForYearAsync(year, cancellationToken);
        var (records, confirmedByUnit, now) = (await surrendered, await confirmed, clock.GetUtcNow());
        var views = new Dictionary<string, ComplianceView>(StringComparer.Ordinal);
        foreach (var unit in units)
        {
            views[unit] = await ViewAsync(unit, year, confirmedByUnit.GetValueOrDefault(unit), records.GetValueOrDefault(unit), schedule, now, yearSuccessions, cancellationToken);
        }
        return views;
    }

    /// <summary>A unit's standing from what was read for it: its surrender record shown with the outcomes of any items still pending.</summary>
    private async Task<ComplianceView> ViewAsync(string unit, int year, ConfirmedEmissions? confirmed, SurrenderRecord? record, CycleSchedule? schedule, DateTimeOffset now,
        SuccessionObligations.YearSuccessions yearSuccessions, CancellationToken cancellationToken)
    {
        if (record is not null && record.Items.Any(i => i.State == SurrenderItemState.Pending)) record = await surrenders.ViewAsync(record, cancellationToken);
        return ComplianceView.Of(unit, year, confirmed, record, schedule, now, await yearSuccessions.ForUnitAsync(unit, cancellationToken));
    }

    /// <summary>
    /// Every key unit of the year's latest list, in list order, then any successor that inherited a year's obligation in a
    /// merger or split (Art. 8) without being on the list; null when no list is published for the year.
    /// </summary>
    public async Task<IReadOnlyList<ComplianceView>?> ForYearAsync(int year, CancellationToken cancellationToken)
    {
        var revision = await lists.LatestRevisionAsync(year, cancellationToken);
        if (revision is null) return null;
        var yearSuccessions = await successions.ForYearAsync(year, cancellationToken);
        var keyUnits = (await lists.EntriesAsync(year, revision.Revision, cancellationToken)).Where(e => e.Category == Categories.Key).ToList();
        var confirmed = await confirmations.ReadYearAsync(year, cancellationToken);
        var surrendered = (await surrenders.ReadYearAsync(year, cancellationToken)).ToDictionary(r => r.Uscc, StringComparer.Ordinal);
        var schedule = await schedules.FindAsync(year, cancellationToken);
        var now = clock.GetUtcNow();
        var views = new List<ComplianceView>(keyUnits.Count);
        foreach (var unit in keyUnits.Select(u => u.Uscc).Concat(yearSuccessions.Successors.Where(s => keyUnits.All(u => u.Uscc != s)).Order(StringComparer.Ordinal)))
        {
            views.Add(await ViewAsync(unit, year, confirmed.GetValueOrDefault(unit), surrendered.GetValueOrDefault(unit), schedule, now, yearSuccessions, cancellationToken));
        }
        return views;
    }
}

/// <summary>
/// GET /api/units/{uscc}/compliance/{year} (the unit, its district, the regulator): confirmed emissions, what is
/// surrendered, the shortfall and the status. GET /api/compliance/{year} (regulator): every key unit with totals, also
/// as ?format=csv or ?format=xlsx.
/// </summary>
public sealed class ComplianceEndpoints : IHttpFunction
{
    public sealed record Totals(int Units, int Compliant, int NonCompliant, int Open, int NoConfirmedEmissions, long ConfirmedEmissionsT,
        long SurrenderedAllowancesT, long SurrenderedOffsetsT, long ShortfallT);

    public sealed record YearTable(int Year, DateTimeOffset? SurrenderDue, IReadOnlyList<ComplianceView> Units, Totals Totals);

    private static readonly string[] Columns = ["uscc", "confirmedEmissionsT", "surrenderedAllowancesT", "surrenderedOffsetsT", "pendingT", "shortfallT", "status"];

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/units/{uscc}/compliance/{year:int}", (string uscc, int year, HttpContext http, UnitStore units, ComplianceService compliance, CancellationToken ct) =>
            UnitInput.ReadVisibleAsync(uscc, http.User, units, "compliance", async code => await compliance.ForUnitAsync(code, year, ct), _ => "", ct)).WithTags("Surrender");
        api.MapGet("/compliance/{year:int}", YearAsync).WithTags("Surrender");
    }

    private static async Task<IResult> YearAsync(int year, string? format, ComplianceService compliance, CycleScheduleStore schedules, CancellationToken cancellationToken)
    {
        if (!TableExport.IsOffered(format)) return TableExport.NotOffered(format);
        var views = await compliance.ForYearAsync(year, cancellationToken);
        if (views is null) return ProblemHandling.NotFound($"No list for {year} has been published, so no unit has a {year} obligation yet.");
        var totals = new Totals(views.Count,
            views.Count(v => v.Status == ComplianceStatus.Compliant), views.Count(v => v.Status == ComplianceStatus.NonCompliant),
            views.Count(v => v.Status == ComplianceStatus.Open), views.Count(v => v.Status == ComplianceStatus.NoConfirmedEmissions),
            views.Sum(v => v.ConfirmedEmissionsT ?? 0), views.Sum(v => v.SurrenderedAllowancesT), views.Sum(v => v.SurrenderedOffsetsT), views.Sum(v => v.ShortfallT ?? 0));
        if (format is "csv" or "xlsx")
        {
            var rows = views.Select(v => (IReadOnlyList<object?>)[v.Unit, v.ConfirmedEmissionsT, v.SurrenderedAllowancesT, v.SurrenderedOffsetsT, v.PendingT, v.ShortfallT, Status(v.Status)])
                .Append(["total", totals.ConfirmedEmissionsT, totals.SurrenderedAllowancesT, totals.SurrenderedOffsetsT, views.Sum(v => v.PendingT), totals.ShortfallT,
                    $"{totals.Compliant} compliant, {totals.NonCompliant} non-compliant, {totals.Open} open, {totals.NoConfirmedEmissions} unconfirmed"]);
            return TableExport.File(format, $"beijing-ets-compliance-{year}", Columns, rows, "compliance");
        }
        return TypedResults.Ok(new YearTable(year, (await schedules.FindAsync(year, cancellationToken))?.SurrenderDue, views, totals));
    }

    private static string Status(ComplianceStatus status) => JsonNamingPolicy.KebabCaseLower.ConvertName(status.ToString());
}
