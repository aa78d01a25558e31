using System.Globalization;
using System.Text;
using BeijingEts.Domain.Lists;

namespace BeijingEts.Bench;

public static class ListsBench
{
    private static readonly string[] Industries = ["power", "heat", "cement", "services", "transport", "construction"];

    /// <summary>A random valid USCC.</summary>
    public static string NewUscc()
    {
        var body = "9111" + string.Concat(Enumerable.Range(0, 13).Select(_ => Uscc.Alphabet[Random.Shared.Next(Uscc.Alphabet.Length)]));
        return body + Uscc.CheckCharacter(body);
    }

    /// <summary>The same units every call (a fixed seed); with registration columns the import registers them.</summary>
    public static byte[] StatisticsFile(int units, bool withRegistration, int minimumEmissions = 0) =>
        File(units, withRegistration, 2024, (i, random) =>
            (Industries[i % Industries.Length], string.Create(CultureInfo.InvariantCulture, $"{1500 + random.Next(0, 20_000)}.25,{minimumEmissions + random.Next(0, 12_000)},{random.Next(0, 3_000)}")));

    /// <summary>
    /// A year's statistics for a cycle of <paramref name="key"/> key units (8,000 t, a covered industry) then
    /// <paramref name="reporting"/> general reporting units (3,000 t), all above the energy threshold; USCCs from the
    /// seed, so every year's file of one seed names the same units.
    /// </summary>
    public static byte[] CycleFile(int key, int reporting, bool withRegistration, int seed) =>
        File(key + reporting, withRegistration, seed, (i, _) => ("cement", $"30000,{(i <= key ? 8000 : 3000)},0"));

    /// <summary>A statistics file of distinct USCCs drawn from the seed; the row function gives the i-th unit's industry and figures.</summary>
    private static byte[] File(int units, bool withRegistration, int seed, Func<int, Random, (string Industry, string Figures)> row)
    {
        var random = new Random(seed);
        var csv = new StringBuilder(withRegistration
            ? "uscc,name,district,industry,nationalEts,energyConsumptionTce,directEmissionsT,indirectEmissionsT\n"
            : "uscc,energyConsumptionTce,directEmissionsT,indirectEmissionsT\n");
        var seen = new HashSet<string>();
        while (seen.Count < units)
        {
            var body = "9111" + string.Concat(Enumerable.Range(0, 13).Select(_ => Uscc.Alphabet[random.Next(Uscc.Alphabet.Length)]));
            var uscc = body + Uscc.CheckCharacter(body);
            if (!seen.Add(uscc)) continue;
            var i = seen.Count;
            var (industry, figures) = row(i, random);
            var registration = withRegistration ? $"基准单位{i},{Districts.All[i % Districts.All.Count]},{industry},false," : "";
            csv.Append(CultureInfo.InvariantCulture, $"{uscc},{registration}{figures}\n");
        }
        return Encoding.UTF8.GetBytes(csv.ToString());
    }
}
