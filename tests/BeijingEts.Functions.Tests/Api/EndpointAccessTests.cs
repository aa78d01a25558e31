using BeijingEts.Functions.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace BeijingEts.Functions.Tests.Api;

/// <summary>The declaration's plumbing without storage: how a line reaches its endpoint, and what an undeclared one does.</summary>
public sealed class EndpointAccessTests
{
    private static WebApplication NewApp(out RouteGroupBuilder api)
    {
        var app = WebApplication.CreateBuilder().Build();
        api = app.MapGroup("/api").WithDeclaredAccess("api");
        return app;
    }

    [Fact]
    public void UndeclaredEndpoint_StopsStartUpNamingItsRoute()
    {
        using var app = NewApp(out var api);
        api.MapGet("/calendar/{year:int}", () => "declared");
        api.MapPost("/units/{uscc}/teleport/{year:int}", () => "undeclared");

        var error = Assert.Throws<InvalidOperationException>(() => ((IEndpointRouteBuilder)app).VerifyDeclaredAccess());

        Assert.Contains("POST /units/{uscc}/teleport/{year}", error.Message);
        Assert.Contains("EndpointAccess.Rules", error.Message);
        Assert.DoesNotContain("/calendar/", error.Message);
    }

    [Fact]
    public void DeclaredEndpoint_CarriesItsRuleAndAPolicyWithItsRoles()
    {
        using var app = NewApp(out var api);
        api.MapGet("/units/{uscc}/statistics/{year:int}", () => "declared");
        api.MapGet("/lists/{year:int}", () => "public");

        ((IEndpointRouteBuilder)app).VerifyDeclaredAccess();
        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(s => s.Endpoints).ToList();
        var statistics = endpoints.Single(e => e.DisplayName!.Contains("statistics", StringComparison.Ordinal)).Metadata;
        var list = endpoints.Single(e => e.DisplayName!.Contains("lists", StringComparison.Ordinal)).Metadata;

        var rule = statistics.GetRequiredMetadata<EndpointRule>();
        Assert.Equal((ScopeKind.Unit, "uscc"), (rule.Scope, rule.RouteValue));
        var policy = statistics.GetRequiredMetadata<AuthorizationPolicy>();
        Assert.Contains(policy.Requirements, r => r is EndpointScopeRequirement);
        Assert.Equal(["regulator", "district", "unit"], policy.Requirements.OfType<Microsoft.AspNetCore.Authorization.Infrastructure.RolesAuthorizationRequirement>().Single().AllowedRoles);
        Assert.NotNull(list.GetMetadata<IAllowAnonymous>());
    }

    [Theory]
    [InlineData("/units/{uscc}/statistics/{year:int}", "/units/{uscc}/statistics/{year}")]
    [InlineData("/cycles/{year:int}/", "/cycles/{year}")]
    [InlineData("market/{product}/book", "/market/{product}/book")]
    public void Routes_AreMatchedWithoutTheirConstraints(string mapped, string declared) =>
        Assert.Equal(declared, EndpointAccess.Normalize(mapped));
}

/// <summary>The scope handler on its own, for the kinds no endpoint exercises yet (a verification body's own routes).</summary>
public sealed class EndpointScopeHandlerTests
{
    private const string Body = "91110000MA0000000X";

    private static async Task<AuthorizationHandlerContext> CheckAsync(EndpointRule rule, string role, string? scope, string routeValue)
    {
        var user = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            new[] { new System.Security.Claims.Claim(EtsClaims.Roles, role) }
                .Concat(scope is null ? [] : [new System.Security.Claims.Claim(role == Roles.Verifier ? EtsClaims.VerifierId : EtsClaims.UnitId, scope)]),
            "test", EtsClaims.Subject, EtsClaims.Roles));
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Request.RouteValues[rule.RouteValue!] = routeValue;
        var requirement = new EndpointScopeRequirement(rule);
        var context = new AuthorizationHandlerContext([requirement], user, http);
        // No storage: the verifier and holder checks read only the token and the route.
        await new EndpointScopeHandler(null!).HandleAsync(context);
        return context;
    }

    private static EndpointRule VerifierRoute => new EndpointRule("POST", "/verifiers/{uscc}/engagements/{engagementId}/links", [Roles.Verifier]).ForVerifier();

    [Fact]
    public async Task Verifier_ActsForItselfOnly()
    {
        Assert.True((await CheckAsync(VerifierRoute, Roles.Verifier, Body, Body.ToLowerInvariant())).HasSucceeded);

        var other = await CheckAsync(VerifierRoute, Roles.Verifier, "91110000MA0000001X", Body);
        Assert.True(other.HasFailed);
        Assert.True(Assert.IsType<ScopeFailure>(Assert.Single(other.FailureReasons)).Hidden); // a body does not learn of another: 404
    }

    [Fact]
    public async Task ScopedRoleWithoutItsClaim_Fails()
    {
        var context = await CheckAsync(VerifierRoute, Roles.Verifier, null, Body);

        Assert.True(context.HasFailed);
        Assert.Contains("verifier_id", Assert.Single(context.FailureReasons).Message);
    }

    [Fact]
    public async Task AnotherHoldersAccount_IsHidden()
    {
        var rule = new EndpointRule("GET", "/accounts/{accountId}", [Roles.Unit]).ForHolder("accountId");

        var context = await CheckAsync(rule, Roles.Unit, "91110000MA0000001X", Body);

        Assert.True(Assert.IsType<ScopeFailure>(Assert.Single(context.FailureReasons)).Hidden);
    }
}
