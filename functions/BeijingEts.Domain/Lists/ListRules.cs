namespace BeijingEts.Domain.Lists;

/// <summary>
/// The Art. 6 conditions in force from a year until a later rule: who is a carbon emission unit (energy use at or
/// above the threshold) and who of them is a key unit (emissions at or above the threshold, in a covered industry).
/// </summary>
public sealed record ListRules(int FromYear, decimal EnergyThresholdTce, long KeyEmissionsThresholdT, IReadOnlySet<string> CoveredIndustries)
{
    public const decimal DefaultEnergyThresholdTce = 2000m;
    public const long DefaultKeyEmissionsThresholdT = 5000;

    /// <summary>The rules of the 2024 Measures, in force when the regulator has set none.</summary>
    public static ListRules Default { get; } =
        new(2024, DefaultEnergyThresholdTce, DefaultKeyEmissionsThresholdT, Industries.CoveredByDefault.ToHashSet(StringComparer.Ordinal));

    /// <summary>The rules in force for a year: the latest that starts at or before it, else the default.</summary>
    public static ListRules InForce(int year, IEnumerable<ListRules> rules) =>
        rules.Where(r => r.FromYear <= year).MaxBy(r => r.FromYear) ?? Default with { FromYear = Math.Min(year, Default.FromYear) };

    public static IReadOnlyList<string> Validate(decimal energyThresholdTce, long keyEmissionsThresholdT, IEnumerable<string> coveredIndustries)
    {
        var problems = new List<string>();
        if (energyThresholdTce <= 0) problems.Add($"energyThresholdTce is {energyThresholdTce}; it must be above 0.");
        if (keyEmissionsThresholdT <= 0) problems.Add($"keyEmissionsThresholdT is {keyEmissionsThresholdT}; it must be above 0.");
        var unknown = coveredIndustries.Where(i => !Industries.IsKnown(i)).Distinct().ToList();
        if (unknown.Count > 0)
        {
            problems.Add($"coveredIndustries has unknown {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the industries are {string.Join(", ", Industries.All)}.");
        }
        return problems;
    }
}
