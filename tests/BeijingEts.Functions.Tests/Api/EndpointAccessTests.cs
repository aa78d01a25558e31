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
