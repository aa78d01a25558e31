using BeijingEts.Domain.Allocation;
using BeijingEts.Domain.Ledger;
using Xunit;

namespace BeijingEts.Domain.Tests;

public sealed class AllocationTests
{
    private static readonly IReadOnlyDictionary<string, MethodRule> NoMethods = new Dictionary<string, MethodRule>();

    [Theory]
    [InlineData("0.05", true)]
    [InlineData("0.0500", true)]
    [InlineData("0.0501", false)]
    [InlineData("0", true)]
    public void ReserveRatio_IsAtMostFivePercent(string ratio, bool accepted)
    {
        var problems = AllocationPlan.Validate(2026, 1_000_000, decimal.Parse(ratio, System.Globalization.CultureInfo.InvariantCulture), 0.7m, NoMethods);
        Assert.Equal(accepted, problems.Count == 0);
        if (!accepted) Assert.Contains("Art. 12", problems[0]);
    }

    [Fact]
    public void Reserve_IsRoundedDownSoItNeverPassesTheRatio()
    {
        var plan = new AllocationPlan(2026, new Tonnes(1_000_019), 0.05m, 0.7m, NoMethods);
        Assert.Equal(50_000, plan.Reserve.Value); // 50,000.95 → 50,000
        Assert.Equal(950_019, plan.FreeAllocationCeiling.Value);
    }

    [Theory]
    [InlineData(new long[] { 1000, 1001 }, "1.0", 1001)] // 1000.5 rounds half-up
    [InlineData(new long[] { 1000, 1000, 1001 }, "1.0", 1000)] // 1000.33
    [InlineData(new long[] { 9000, 11000 }, "0.98", 9800)]
    public void HistoricalTotal_IsTheBaseYearMeanTimesTheControlFactor(long[] emissions, string factor, long expected)
    {
        Assert.Equal(expected, AllocationFormulas.HistoricalTotal(emissions, decimal.Parse(factor, System.Globalization.CultureInfo.InvariantCulture)).Value);
    }

    [Fact]
    public void Benchmark_SumsActivityTimesBenchmark()
    {
        var activity = new Dictionary<string, decimal> { ["clinker-t"] = 1_000_000m, ["power-mwh"] = 2_500.5m };
        var benchmarks = new Dictionary<string, decimal> { ["clinker-t"] = 0.85m, ["power-mwh"] = 0.6m };
        Assert.Equal(851_500, AllocationFormulas.Benchmark(activity, benchmarks).Value); // 850,000 + 1,500.3
    }

    [Fact]
    public void PreAllocation_IsTheRatioOfTheBasisHalfUp()
    {
        Assert.Equal(701, AllocationFormulas.PreAllocation(new Tonnes(1001), 0.7m).Value); // 700.7
        Assert.Equal(351, AllocationFormulas.PreAllocation(new Tonnes(701), 0.5m).Value); // 350.5
    }

    [Fact]
    public void MethodRules_AreChecked()
    {
        var methods = new Dictionary<string, MethodRule>
        {
            ["cement"] = new(AllocationMethod.HistoricalTotal, [2026], 1m, new Dictionary<string, decimal>()),
            ["steel"] = new(AllocationMethod.HistoricalTotal, [2024], 1m, new Dictionary<string, decimal>()),
            ["power"] = new(AllocationMethod.Benchmark, [], 1m, new Dictionary<string, decimal>()),
            ["heat"] = new(AllocationMethod.HistoricalIntensity, [2023, 2024], 3m, new Dictionary<string, decimal>()),
        };

        var problems = AllocationPlan.Validate(2026, 1000, 0.05m, 0.7m, methods);

        Assert.Contains(problems, p => p.Contains("base year 2026 must be before 2026"));
        Assert.Contains(problems, p => p.Contains("unknown industry 'steel'"));
        Assert.Contains(problems, p => p.Contains("power: the benchmark method needs benchmarks"));
        Assert.Contains(problems, p => p.Contains("heat: controlFactor 3"));
    }

    [Fact]
    public void BaseIntensities_AreTheMeanOfEachBaseYearsEmissionsPerUnitOfItsOneProduct()
    {
        var (intensities, failure) = AllocationFormulas.BaseIntensities(
        [
            new BaseYearFigures(2021, 1_000, new Dictionary<string, decimal> { ["heat-gj"] = 10_000 }),
            new BaseYearFigures(2022, 1_200, new Dictionary<string, decimal> { ["heat-gj"] = 10_000, ["idle"] = 0 }),
        ]);

        Assert.Null(failure);
        Assert.Equal(0.11m, intensities!["heat-gj"]);
        Assert.Equal(2_156, AllocationFormulas.HistoricalIntensity(new Dictionary<string, decimal> { ["heat-gj"] = 20_000 }, intensities, 0.98m).Value);
    }

    [Fact]
    public void BaseIntensities_SeveralProductsOrAChangedProduct_AreRefusedWithTheReason()
    {
        var several = AllocationFormulas.BaseIntensities([new BaseYearFigures(2021, 1_000, new Dictionary<string, decimal> { ["a"] = 1, ["b"] = 2 })]);
        var changed = AllocationFormulas.BaseIntensities(
        [
            new BaseYearFigures(2021, 1_000, new Dictionary<string, decimal> { ["a"] = 1 }),
            new BaseYearFigures(2022, 1_000, new Dictionary<string, decimal> { ["b"] = 1 }),
        ]);

        Assert.Contains("2 products", several.Failure);
        Assert.Contains("same product", changed.Failure);
    }
}
