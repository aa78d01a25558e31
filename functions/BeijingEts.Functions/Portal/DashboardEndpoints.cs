using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Surrender;

namespace BeijingEts.Functions.Portal;

/// <summary>
/// GET /api/dashboard/{year}/compliance (regulator): the year's key units' compliance (Art. 27-29) counted by industry
/// and by district, for the portal's charts: one read of the compliance table and the list instead of a call per unit;
/// and the allocation actually issued for the year (Art. 14), from the allocation records, each written only once its
/// ledger transaction (fixed id) has moved the tonnes: what the runs paid (a removal's reclaim of a pre-allocation, which
/// the ledger records, is not taken off it).
/// </summary>
public sealed class DashboardEndpoints : IHttpFunction
{
    /// <summary>One group's units by standing: compliant, short (non-compliant), open (surrender window not closed), unconfirmed (no confirmed emissions yet).</summary>
    public sealed record Group(string Key, int Units, int Compliant, int Short, int Open, int Unconfirmed, long ConfirmedEmissionsT, long ShortfallT);

    public sealed record ComplianceDashboard(int Year, int ListRevision, Group Total, IReadOnlyList<Group> ByIndustry, IReadOnlyList<Group> ByDistrict, IssuedAllocation Allocation);

    /// <summary>
    /// What the year's allocation runs gave the units: pre-allocated, topped up and clawed back at verified allocation, and
    /// the net, <c>AllocatedT</c> = pre-allocated + topped up - clawed back (adjustments and objections pay from the reserve, not counted here).
    /// </summary>
    public sealed record IssuedAllocation(int Units, long PreAllocatedT, long ToppedUpT, long ClawedBackT, long AllocatedT);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/dashboard/{year:int}/compliance", ComplianceAsync).WithTags("Portal");

    private static async Task<Results<Ok<ComplianceDashboard>, ProblemHttpResult>> ComplianceAsync(
        int year, ComplianceService compliance, PublishedListStore lists, AllocationStore allocations, CancellationToken cancellationToken)
    {
        if (year is < 2013 or > 2100) return ProblemHandling.BadRequest($"Year {year} is out of range (2013 to 2100).");
        var revision = await lists.LatestRevisionAsync(year, cancellationToken);
        var views = revision is null ? null : await compliance.ForYearAsync(year, cancellationToken);
        if (revision is null || views is null) return ProblemHandling.NotFound($"No list for {year} has been published, so no unit has a {year} obligation yet.");
        var entries = (await lists.EntriesAsync(year, revision.Revision, cancellationToken)).ToDictionary(e => e.Uscc, StringComparer.Ordinal);
        // A successor that inherited the year's obligation without being on the list is counted under "other".
        string IndustryOf(ComplianceView v) => entries.TryGetValue(v.Unit, out var e) ? e.Industry : "other";
        string DistrictOf(ComplianceView v) => entries.TryGetValue(v.Unit, out var e) ? e.District : "other";
        return TypedResults.Ok(new ComplianceDashboard(year, revision.Revision, Count("total", views),
            views.GroupBy(IndustryOf).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Count(g.Key, g.ToList())).ToList(),
            views.GroupBy(DistrictOf).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Count(g.Key, g.ToList())).ToList(),
            Issued(await allocations.ReadYearAsync(year, cancellationToken))));
    }

    private static IssuedAllocation Issued(IReadOnlyList<UnitAllocation> records)
    {
        var given = records.Where(a => a.PreAllocated.Value > 0 || a.TopUp is { Value: > 0 } || a.ClawedBack is { Value: > 0 }).ToList();
        long pre = given.Sum(a => a.PreAllocated.Value), topUp = given.Sum(a => a.TopUp?.Value ?? 0), clawedBack = given.Sum(a => a.ClawedBack?.Value ?? 0);
        return new(given.Count, pre, topUp, clawedBack, pre + topUp - clawedBack);
    }

    private static Group Count(string key, IReadOnlyCollection<ComplianceView> views) => new(key, views.Count,
        views.Count(v => v.Status == ComplianceStatus.Compliant), views.Count(v => v.Status == ComplianceStatus.NonCompliant),
        views.Count(v => v.Status == ComplianceStatus.Open), views.Count(v => v.Status == ComplianceStatus.NoConfirmedEmissions),
        views.Sum(v => v.ConfirmedEmissionsT ?? 0), views.Sum(v => v.ShortfallT ?? 0));
}
