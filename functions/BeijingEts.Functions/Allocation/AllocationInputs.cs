using BeijingEts.Domain.Allocation;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Allocation;

/// <summary>A unit an allocation run could not allocate, and why.</summary>
public sealed record AllocationFailure(string Uscc, string Reason);

/// <summary>What an allocation run for a year works on: the year's plan and the key units of its latest published list.</summary>
public sealed record AllocationScope(AllocationPlan Plan, int ListRevision, IReadOnlyList<ListEntry> KeyUnits)
{
    public static async Task<(AllocationScope? Scope, ProblemHttpResult? Problem)> LoadAsync(int year, AllocationPlanStore plans, PublishedListStore lists, CancellationToken cancellationToken)
    {
        var plan = await plans.FindAsync(year, cancellationToken);
        if (plan is null) return (null, Errors.Problems.Unprocessable($"No allocation plan for {year}; set it with PUT /api/allocation/{year}/plan first."));
        var revision = await lists.LatestRevisionAsync(year, cancellationToken);
        if (revision is null) return (null, Errors.Problems.Unprocessable($"No list for {year} is published; publish it with POST /api/lists/{year}/publish first."));
        var keyUnits = (await lists.EntriesAsync(year, revision.Revision, cancellationToken)).Where(e => e.Category == Categories.Key).ToList();
        return (new AllocationScope(plan, revision.Revision, keyUnits), null);
    }

    /// <summary>Refuses a run whose free allocation would pass the cap less the reserve (Art. 12).</summary>
    public ProblemHttpResult? OverCeiling(string wouldBe, Tonnes total) => total > Plan.FreeAllocationCeiling
        ? Errors.Problems.Unprocessable($"{wouldBe} {total.Value} t, over the free allocation ceiling of {Plan.FreeAllocationCeiling.Value} t (cap {Plan.Cap.Value} t less reserve {Plan.Reserve.Value} t).")
        : null;
}

/// <summary>
/// The figures allocation is computed from, read once per run: confirmed emissions and activity by year (Art. 23),
/// and, for base years confirmed before the platform, the statistics the lists were drawn from.
/// </summary>
public sealed class AllocationInputs
{
    private readonly Dictionary<int, IReadOnlyDictionary<string, ConfirmedEmissions>> _confirmed = [];
    private readonly Dictionary<int, IReadOnlyDictionary<string, Domain.Lists.UnitStatistics>> _statistics = [];

    private AllocationInputs()
    {
    }

    public static async Task<AllocationInputs> LoadAsync(AllocationPlan plan, IEnumerable<int> activityYears, StatisticsStore statistics,
        ConfirmationStore confirmations, CancellationToken cancellationToken)
    {
        var inputs = new AllocationInputs();
        var baseYears = plan.Methods.Values.SelectMany(m => m.BaseYears).ToHashSet();
        foreach (var year in baseYears.Union(activityYears))
        {
            inputs._confirmed[year] = await confirmations.ReadYearAsync(year, cancellationToken);
        }
        foreach (var year in baseYears) inputs._statistics[year] = await statistics.ReadYearAsync(year, cancellationToken);
        return inputs;
    }

    public ConfirmedEmissions? Confirmed(int year, string uscc) =>
        _confirmed.TryGetValue(year, out var all) && all.TryGetValue(uscc, out var found) ? found : null;

    /// <summary>
    /// The unit's basis under its industry's method: historical methods from the base years, activity-based ones from
    /// the activity of <paramref name="activityYear"/> (the year before, for pre-allocation; the year itself once confirmed).
    /// </summary>
    public (Tonnes Basis, string? Method, string? Failure) Basis(AllocationPlan plan, ListEntry unit, int activityYear)
    {
        if (!plan.Methods.TryGetValue(unit.Industry, out var rule)) return (Tonnes.Zero, null, $"The {plan.Year} plan has no method for industry {unit.Industry}.");
        var method = JsonNamingPolicy.KebabCaseLower.ConvertName(rule.Method.ToString());
        if (rule.Method == AllocationMethod.HistoricalTotal)
        {
            var emissions = new List<long>();
            foreach (var baseYear in rule.BaseYears)
            {
                if (BaseYearEmissions(baseYear, unit.Uscc) is not { } e) return (Tonnes.Zero, method, $"No emissions are known for base year {baseYear}.");
                emissions.Add(e);
            }
            return (AllocationFormulas.HistoricalTotal(emissions, rule.ControlFactor), method, null);
        }
        if (Confirmed(activityYear, unit.Uscc) is not { } current)
        {
            return (Tonnes.Zero, method, $"No confirmed activity data for {activityYear} is on file; {method} needs the confirmed annual report's activity lines.");
        }
        var activity = current.Activity.ToDictionary(a => a.Product, a => a.Quantity, StringComparer.Ordinal);
        if (rule.Method == AllocationMethod.Benchmark)
        {
            var missing = activity.Keys.Where(p => activity[p] > 0 && !rule.Benchmarks.ContainsKey(p)).Order(StringComparer.Ordinal).ToList();
            if (missing.Count > 0) return (Tonnes.Zero, method, $"The {plan.Year} plan has no benchmark for {string.Join(", ", missing)} ({unit.Industry}).");
            return (AllocationFormulas.Benchmark(activity.Where(a => a.Value > 0).ToDictionary(), rule.Benchmarks), method, null);
        }
        var baseFigures = new List<BaseYearFigures>();
        foreach (var baseYear in rule.BaseYears)
        {
            if (Confirmed(baseYear, unit.Uscc) is not { } confirmed) return (Tonnes.Zero, method, $"No confirmed emissions and activity for base year {baseYear}.");
            baseFigures.Add(new BaseYearFigures(baseYear, confirmed.ConfirmedEmissionsT.Value, confirmed.Activity.ToDictionary(a => a.Product, a => a.Quantity, StringComparer.Ordinal)));
        }
        var (intensities, failure) = AllocationFormulas.BaseIntensities(baseFigures);
        if (failure is not null) return (Tonnes.Zero, method, failure);
        var unmatched = activity.Where(a => a.Value > 0 && !intensities!.ContainsKey(a.Key)).Select(a => a.Key).ToList();
        if (unmatched.Count > 0) return (Tonnes.Zero, method, $"{activityYear} reports {string.Join(", ", unmatched)}, which the base years did not make; no intensity is known for it.");
        return (AllocationFormulas.HistoricalIntensity(activity.Where(a => a.Value > 0).ToDictionary(), intensities!, rule.ControlFactor), method, null);
    }

    /// <summary>A base year's emissions: as confirmed, or else as the statistics give them.</summary>
    private long? BaseYearEmissions(int year, string uscc) =>
        Confirmed(year, uscc)?.ConfirmedEmissionsT.Value
        ?? (_statistics.TryGetValue(year, out var all) && all.TryGetValue(uscc, out var stats) ? stats.DirectEmissionsT + stats.IndirectEmissionsT : null);
}
