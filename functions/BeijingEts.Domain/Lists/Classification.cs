namespace BeijingEts.Domain.Lists;

public enum UnitCategory
{
    /// <summary>Under the energy threshold: not a carbon emission unit, not on the list.</summary>
    NotListed,
    /// <summary>重点碳排放单位: allowances and surrender apply.</summary>
    Key,
    /// <summary>一般报告单位: reports its emissions.</summary>
    Reporting,
}

/// <summary>One unit's yearly figures from the statistics bureau. Energy in tonnes of standard coal, emissions in whole tonnes of CO2.</summary>
public sealed record UnitStatistics(decimal EnergyConsumptionTce, long DirectEmissionsT, long IndirectEmissionsT, long? OutsideNationalBoundaryEmissionsT);

public static class Classification
{
    /// <summary>
    /// Art. 6: a unit using at least the energy threshold (inclusive) is a carbon emission unit; it is a key unit when
    /// its emissions reach the key threshold (inclusive) and its industry is covered, else a general reporting unit.
    /// For a unit in the national ETS only its emissions outside the national accounting boundary count (Art. 6 para 2).
    /// </summary>
    public static UnitCategory Classify(ListRules rules, string industry, bool nationalEts, UnitStatistics statistics)
    {
        if (statistics.EnergyConsumptionTce < rules.EnergyThresholdTce)
        {
            return UnitCategory.NotListed;
        }
        var counted = CountedEmissionsT(nationalEts, statistics);
        return counted >= rules.KeyEmissionsThresholdT && rules.CoveredIndustries.Contains(industry)
            ? UnitCategory.Key
            : UnitCategory.Reporting;
    }

    public static long CountedEmissionsT(bool nationalEts, UnitStatistics statistics) =>
        nationalEts ? statistics.OutsideNationalBoundaryEmissionsT ?? 0 : statistics.DirectEmissionsT + statistics.IndirectEmissionsT;

    /// <summary>
    /// Art. 9 (三): in each of the years given (three consecutive ones), the counted emissions stayed under the key
    /// threshold in force that year. A year without statistics cannot show that.
    /// </summary>
    public static bool BelowKeyThreshold(bool nationalEts, IEnumerable<(ListRules Rules, UnitStatistics? Statistics)> years) =>
        years.All(y => y.Statistics is not null && CountedEmissionsT(nationalEts, y.Statistics) < y.Rules.KeyEmissionsThresholdT);
}
