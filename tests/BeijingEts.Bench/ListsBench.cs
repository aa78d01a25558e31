using System.Globalization;
using System.Text;
using BeijingEts.Domain.Lists;

namespace BeijingEts.Bench;

public static class ListsBench
{
    private static readonly string[] Industries = ["power", "heat", "cement", "services", "transport", "construction"];

    /// <summary>A statistics file for <paramref name="units"/> units, spread over districts, industries and categories.</summary>
    public static string NewUscc()
    {
        var body = "9111" + string.Concat(Enumerable.Range(0, 13).Select(_ => Uscc.Alphabet[Random.Shared.Next(Uscc.Alphabet.Length)]));
        return body + Uscc.CheckCharacter(body);
    }

    /// <summary>The same units every call (a fixed seed); with registration columns the import registers them.</summary>
    public static byte[] StatisticsFile(int units, bool withRegistration, int minimumEmissions = 0)
    {
        var random = new Random(2024);
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
            var registration = withRegistration ? $"基准单位{i},{Districts.All[i % Districts.All.Count]},{Industries[i % Industries.Length]},false," : "";
            csv.Append(CultureInfo.InvariantCulture, $"{uscc},{registration}{1500 + random.Next(0, 20_000)}.25,{minimumEmissions + random.Next(0, 12_000)},{random.Next(0, 3_000)}\n");
        }
        return Encoding.UTF8.GetBytes(csv.ToString());
    }
}
