using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Lists;

namespace BeijingEts.Domain.Allocation;

public enum AllocationMethod
{
    /// <summary>Mean base-year emissions × control factor.</summary>
    HistoricalTotal,
    /// <summary>Activity × the base years' mean intensity per product × control factor.</summary>
    HistoricalIntensity,
    /// <summary>Activity × the product's benchmark (tCO2 per unit); also the rule for new facilities.</summary>
    Benchmark,
}

public sealed record MethodRule(AllocationMethod Method, IReadOnlyList<int> BaseYears, decimal ControlFactor, IReadOnlyDictionary<string, decimal> Benchmarks);

/// <summary>A year's cap, the share kept as adjustment reserve (Art. 12), the pre-allocated share (Art. 14) and each industry's method.</summary>
public sealed record AllocationPlan(int Year, Tonnes Cap, decimal ReserveRatio, decimal PreAllocationRatio, IReadOnlyDictionary<string, MethodRule> Methods)
{
    /// <summary>Art. 12: the adjustment reserve is at most 5% of the cap.</summary>
    public const decimal MaxReserveRatio = 0.05m;

    /// <summary>The reserve in whole tonnes, rounded down so it never passes the ratio.</summary>
    public Tonnes Reserve => new((long)decimal.Floor(Cap.Value * ReserveRatio));

    /// <summary>What free allocation may add up to: the cap less the reserve.</summary>
    public Tonnes FreeAllocationCeiling => Cap - Reserve;

    public static IReadOnlyList<string> Validate(int year, long cap, decimal reserveRatio, decimal preAllocationRatio, IReadOnlyDictionary<string, MethodRule> methods)
    {
        var problems = new List<string>();
        if (cap <= 0) problems.Add($"cap is {cap}; it must be a positive whole number of tonnes.");
        if (reserveRatio < 0) problems.Add("reserveRatio cannot be negative.");
        if (reserveRatio > MaxReserveRatio) problems.Add($"reserveRatio {reserveRatio} is over {MaxReserveRatio}: the adjustment reserve is at most 5% of the cap (Art. 12).");
        if (preAllocationRatio is <= 0 or > 1) problems.Add($"preAllocationRatio {preAllocationRatio} must be above 0 and at most 1.");
        foreach (var (industry, rule) in methods)
        {
            if (!Industries.IsKnown(industry)) problems.Add($"methods has unknown industry '{industry}'; the industries are {string.Join(", ", Industries.All)}.");
            if (rule.ControlFactor is <= 0 or > 2) problems.Add($"{industry}: controlFactor {rule.ControlFactor} must be above 0 and at most 2.");
            if (rule.Method != AllocationMethod.Benchmark)
            {
                if (rule.BaseYears.Count == 0) problems.Add($"{industry}: a historical method needs baseYears.");
                foreach (var baseYear in rule.BaseYears.Where(b => b >= year || b < 2013)) problems.Add($"{industry}: base year {baseYear} must be before {year} (and from 2013).");
                if (rule.BaseYears.Distinct().Count() != rule.BaseYears.Count) problems.Add($"{industry}: a base year is listed twice.");
            }
            else
            {
                if (rule.Benchmarks.Count == 0) problems.Add($"{industry}: the benchmark method needs benchmarks, tCO2 per unit of each product.");
                foreach (var (product, value) in rule.Benchmarks.Where(b => b.Value <= 0)) problems.Add($"{industry}: benchmark for '{product}' is {value}; it must be above 0.");
            }
        }
        return problems;
    }
}

public static class AllocationFormulas
{
    /// <summary>Results are whole tonnes, rounded half-up.</summary>
    public static Tonnes RoundHalfUp(decimal tonnes) => new((long)decimal.Round(tonnes, 0, MidpointRounding.AwayFromZero));

    /// <summary>historical-total: the mean of the base years' emissions × the control factor.</summary>
    public static Tonnes HistoricalTotal(IReadOnlyList<long> baseYearEmissions, decimal controlFactor) =>
        RoundHalfUp(baseYearEmissions.Average(e => (decimal)e) * controlFactor);

    /// <summary>benchmark: the sum over products of activity × the product's benchmark.</summary>
    public static Tonnes Benchmark(IReadOnlyDictionary<string, decimal> activity, IReadOnlyDictionary<string, decimal> benchmarks) =>
        RoundHalfUp(activity.Sum(a => a.Value * benchmarks[a.Key]));

    /// <summary>historical-intensity: the sum over products of activity × the product's base-year mean intensity × the control factor.</summary>
    public static Tonnes HistoricalIntensity(IReadOnlyDictionary<string, decimal> activity, IReadOnlyDictionary<string, decimal> intensities, decimal controlFactor) =>
        RoundHalfUp(activity.Sum(a => a.Value * intensities[a.Key]) * controlFactor);

    /// <summary>
    /// The mean intensity (tCO2 per unit of product) over the base years. A base year's emissions are attributable to a
    /// product only when it made that one product, so each base year must report exactly one product with output, the
    /// same in every base year; a unit making several is allocated by benchmark instead. Returns the failure otherwise.
    /// </summary>
    public static (IReadOnlyDictionary<string, decimal>? Intensities, string? Failure) BaseIntensities(IReadOnlyList<BaseYearFigures> baseYears)
    {
        string? product = null;
        var intensities = new List<decimal>();
        foreach (var year in baseYears)
        {
            var outputs = year.Activity.Where(a => a.Value > 0).ToList();
            if (outputs.Count != 1)
            {
                return (null, $"Base year {year.Year} reports {outputs.Count} products with output; historical-intensity needs each base year's emissions against one product.");
            }
            if (product is not null && outputs[0].Key != product)
            {
                return (null, $"Base year {year.Year} reports {outputs[0].Key}, another base year {product}; historical-intensity needs the same product in every base year.");
            }
            product = outputs[0].Key;
            intensities.Add(year.EmissionsT / outputs[0].Value);
        }
        return product is null ? (null, "No base years are given.") : (new Dictionary<string, decimal> { [product] = intensities.Average() }, null);
    }

    /// <summary>The pre-allocated share of a basis (Art. 14), half-up.</summary>
    public static Tonnes PreAllocation(Tonnes basis, decimal ratio) => RoundHalfUp(basis.Value * ratio);
}

/// <summary>A base year's emissions and activity by product, as confirmed.</summary>
public sealed record BaseYearFigures(int Year, long EmissionsT, IReadOnlyDictionary<string, decimal> Activity);
