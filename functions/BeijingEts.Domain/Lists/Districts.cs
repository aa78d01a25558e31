namespace BeijingEts.Domain.Lists;

/// <summary>
/// Beijing's 16 districts and the Economic-Technological Development Area, as written in Chinese. In the
/// development area the district bureau's role is held by its 城市运行局 (Art. 9).
/// </summary>
public static class Districts
{
    public const string EconomicDevelopmentArea = "北京经济技术开发区";

    public static readonly IReadOnlyList<string> All =
    [
        "东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "门头沟区", "房山区", "通州区",
        "顺义区", "昌平区", "大兴区", "怀柔区", "平谷区", "密云区", "延庆区", EconomicDevelopmentArea,
    ];

    private static readonly HashSet<string> Known = new(All, StringComparer.Ordinal);

    public static bool IsKnown(string? district) => district is not null && Known.Contains(district);

    /// <summary>Who acts as the district bureau for a district (Art. 9).</summary>
    public static string Bureau(string district) =>
        district == EconomicDevelopmentArea ? "北京经济技术开发区城市运行局" : district + "生态环境局";
}
