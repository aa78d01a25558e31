namespace BeijingEts.Domain.Lists;

/// <summary>The industry codes units are registered under; which of them the Beijing market covers is a list rule.</summary>
public static class Industries
{
    public static readonly IReadOnlyList<string> All =
        ["power", "heat", "cement", "petrochemical", "other-industry", "services", "transport", "aviation", "construction", "agriculture"];

    /// <summary>Covered by default: all but construction and agriculture.</summary>
    public static readonly IReadOnlyList<string> CoveredByDefault = All.Where(i => i is not ("construction" or "agriculture")).ToList();

    private static readonly HashSet<string> Known = new(All, StringComparer.Ordinal);

    public static bool IsKnown(string? industry) => industry is not null && Known.Contains(industry);
}
