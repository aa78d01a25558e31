using System.Text;
using BeijingEts.Functions.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace BeijingEts.Functions.Tests.Api;

public sealed class TokenFixture : EtsAppFixture;

/// <summary>Local tokens (run.sh, the tests): HS256 with the local key, in Development only, and nothing else.</summary>
public sealed class TokenValidationTests(TokenFixture app) : IClassFixture<TokenFixture>
{
    private static object Year(int year) => new { source = "test notice", holidays = new[] { $"{year}-01-01" }, makeupWorkdays = Array.Empty<string>() };

    private async Task<HttpResponseMessage> PutYearWithAsync(string token, int year)
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return await client.PutAsJsonAsync($"/api/calendar/{year}", Year(year), TestContext.Current.CancellationToken);
    }

    private async Task AssertYearNotStoredAsync(int year)
    {
        var response = await app.Client("regulator").GetAsync($"/api/calendar/{year}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task LocalToken_Hs256_IsAccepted()
    {
        var response = await PutYearWithAsync(LocalTokens.Create(app.SigningKey, "regulator"), 2050);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(SecurityAlgorithms.HmacSha384, 2051)]
    [InlineData(SecurityAlgorithms.HmacSha512, 2052)]
    public async Task TokenSignedWithTheLocalKeyButAnotherAlgorithm_Gives401NamingTheAlgorithm(string algorithm, int year)
    {
        var response = await PutYearWithAsync(Sign(app.SigningKey, algorithm), year);

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "HS256");
        await AssertYearNotStoredAsync(year);
    }

    [Fact]
    public async Task UnsignedToken_AlgNone_Gives401()
    {
        var response = await PutYearWithAsync(Unsigned(LocalTokens.Create(app.SigningKey, "regulator")), 2053);

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        await AssertYearNotStoredAsync(2053);
    }

    [Theory]
    [InlineData("bm90IGpzb24.e30.c2ln", 2054)]                          // a header that is not JSON
    [InlineData("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", 2055)]         // a payload that is not JSON
    [InlineData("e30.e30.", 2056)]                                      // no alg at all
    [InlineData("not-a-token", 2057)]
    public async Task MalformedToken_Gives401Problem(string token, int year)
    {
        var response = await PutYearWithAsync(token, year);

        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        await AssertYearNotStoredAsync(year);
    }

    /// <summary>A regulator token as token.sh makes it, signed with <paramref name="algorithm"/> instead of HS256.</summary>
    internal static string Sign(string key, string algorithm)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = AuthSetup.LocalIssuer,
            Audience = AuthSetup.LocalAudience,
            Claims = new Dictionary<string, object> { [EtsClaims.Subject] = "local:regulator", [EtsClaims.Roles] = new[] { "regulator" } },
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), algorithm),
        });
    }

    /// <summary>The same claims under the header {"alg":"none"} and no signature.</summary>
    internal static string Unsigned(string token)
    {
        var payload = token.Split('.')[1];
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        return $"{header}.{payload}.";
    }
}

/// <summary>Which issuer the app trusts is decided at start-up, from where it runs.</summary>
public sealed class SigningKeyStartupTests
{
    private static Dictionary<string, string?> Settings(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            [StorageClients.ConnectionSetting] = "UseDevelopmentStorage=true",
            ["Ets:Port"] = "0",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    private static string StartupMessage(string environment, Dictionary<string, string?> settings)
    {
        var error = Assert.ThrowsAny<Exception>(() => EtsApp.Build(["--environment", environment], settings));
        return StartupFailure.Describe(error) ?? throw new Xunit.Sdk.XunitException($"Not a start-up failure a person can fix: {error}");
    }

    [Theory]
    [InlineData("Auth:SigningKey", "0123456789abcdef0123456789abcdef0123")]
    [InlineData("Auth:SigningKeyFile", "/tmp/ets-dev-signing-key")]
    public void LocalKey_UnderTheFunctionsHost_IsAStartUpErrorSayingToSetEntraId(string setting, string value)
    {
        var message = StartupMessage("Development", Settings(("FUNCTIONS_CUSTOMHANDLER_PORT", "7999"), (setting, value)));

        Assert.Contains("Functions host", message);
        Assert.Contains("Auth:Authority", message);
        Assert.Contains("Auth:Audience", message);
    }

    [Fact]
    public void LocalKey_OutsideDevelopment_IsAStartUpErrorSayingWhatToSet()
    {
        var message = StartupMessage("Production", Settings(("Auth:SigningKey", "0123456789abcdef0123456789abcdef0123")));

        Assert.Contains("Development", message);
        Assert.Contains("Auth:Authority", message);
    }

    [Fact]
    public void NoIssuerAtAll_IsAStartUpErrorSayingWhatToSet()
    {
        var message = StartupMessage("Production", Settings(("FUNCTIONS_CUSTOMHANDLER_PORT", "7999")));

        Assert.Contains("Auth:Authority", message);
    }

    [Fact]
    public async Task EntraId_UnderTheFunctionsHost_IsAccepted()
    {
        var app = EtsApp.Build(["--environment", "Production"], Settings(("FUNCTIONS_CUSTOMHANDLER_PORT", "7999"),
            ("Auth:Authority", EntraTestIssuer.Issuer), ("Auth:Audience", EntraTestIssuer.Audience)));

        await app.DisposeAsync();
    }
}
