using BeijingEts.Domain.Lists;

namespace BeijingEts.Functions.Tests.Lists;

/// <summary>Valid, distinct USCCs for tests: 17 random characters and the GB 32100 check character.</summary>
public static class TestUnits
{
    public static string NewUscc()
    {
        var body = "9111" + string.Concat(Enumerable.Range(0, 13).Select(_ => Uscc.Alphabet[Random.Shared.Next(Uscc.Alphabet.Length)]));
        return body + Uscc.CheckCharacter(body);
    }

    public static async Task<string> RegisterAsync(HttpClient regulator, string district = "朝阳区", string industry = "cement", bool nationalEts = false, string? uscc = null)
    {
        uscc ??= NewUscc();
        var response = await regulator.PutAsJsonAsync($"/api/units/{uscc}", new { name = $"测试单位 {uscc[^6..]}", district, industry, nationalEts });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return uscc;
    }
}
