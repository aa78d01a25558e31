using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Tests.Runtime;
using Microsoft.IdentityModel.Tokens;

namespace BeijingEts.Functions.Tests.Api;

/// <summary>Under the Functions host the app trusts Entra ID alone: RS256 tokens, actors recorded by their oid.</summary>
public sealed class EntraTokenTests(CustomHandlerFixture app) : IClassFixture<CustomHandlerFixture>
{
    private static object Year(int year) => new { source = "test notice", holidays = new[] { $"{year}-01-01" }, makeupWorkdays = Array.Empty<string>() };

    private async Task<HttpResponseMessage> PutYearWithAsync(string token, int year)
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return await client.PutAsJsonAsync($"/api/calendar/{year}", Year(year), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task EntraToken_IsAcceptedAndTheAuditRecordsTheActorByOidSearchableByActor()
    {
        var ct = TestContext.Current.CancellationToken;
        var oid = Guid.NewGuid().ToString();

        var response = await PutYearWithAsync(app.Entra.Create("regulator", objectId: oid), 2061);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bySubject = await app.Client("regulator").GetFromJsonAsync<JsonElement>("/api/audit?subject=calendar/2061", ct);
        var entry = Assert.Single(bySubject.GetProperty("entries").EnumerateArray());
        Assert.Equal(oid, entry.GetProperty("actor").GetString());
        var byActor = await app.Client("regulator").GetFromJsonAsync<JsonElement>($"/api/audit?actor={oid}", ct);
        Assert.Equal(oid, byActor.GetProperty("actor").GetString());
        var action = Assert.Single(byActor.GetProperty("entries").EnumerateArray());
        Assert.Equal("calendar/2061", action.GetProperty("subject").GetString());
        Assert.Equal("calendar.year-loaded", action.GetProperty("action").GetString());
    }

    [Theory]
    [InlineData(SecurityAlgorithms.RsaSha384, 2062)]
    [InlineData(SecurityAlgorithms.RsaSha512, 2063)]
    [InlineData(SecurityAlgorithms.RsaSsaPssSha256, 2064)]
    public async Task EntraKeyButAnotherAlgorithm_Gives401(string algorithm, int year)
    {
        var response = await PutYearWithAsync(app.Entra.Create("regulator", algorithm: algorithm), year);

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "RS256");
        await AssertYearNotStoredAsync(year);
    }

    [Fact]
    public async Task LocalKeyToken_UnderTheHost_Gives401()
    {
        var response = await PutYearWithAsync(LocalTokens.Create(app.SigningKey, "regulator"), 2065);

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        await AssertYearNotStoredAsync(2065);
    }

    [Fact]
    public async Task UnsignedEntraToken_AlgNone_Gives401()
    {
        var response = await PutYearWithAsync(TokenValidationTests.Unsigned(app.Entra.Create("regulator")), 2066);

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        await AssertYearNotStoredAsync(2066);
    }

    private async Task AssertYearNotStoredAsync(int year)
    {
        var response = await app.Client("regulator").GetAsync($"/api/calendar/{year}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
