using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.IdentityModel.Tokens;

namespace BeijingEts.Functions.Auth;

/// <summary>
/// JWT bearer on every /api route but health and the public lists. In Azure the tokens come from Entra ID
/// (Auth:Authority / Auth:Audience); locally and in tests they are signed with a local key
/// (Auth:SigningKey, or Auth:SigningKeyFile, the file ./scripts/token.sh signs with).
/// </summary>
public static class AuthSetup
{
    public const string LocalIssuer = "beijing-ets-local";
    public const string LocalAudience = "beijing-ets-api";

    public static IServiceCollection AddEtsAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var auth = configuration.GetSection("Auth");
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
        {
            options.MapInboundClaims = false;
            options.TokenValidationParameters = new TokenValidationParameters
            {
                RoleClaimType = EtsClaims.Roles,
                NameClaimType = EtsClaims.Subject,
                ClockSkew = TimeSpan.FromMinutes(1),
            };
            if (auth["Authority"] is { Length: > 0 } authority)
            {
                options.Authority = authority;
                options.Audience = auth["Audience"] ?? throw new InvalidOperationException("Auth:Audience must be set with Auth:Authority.");
                options.TokenValidationParameters.ValidIssuer = auth["Issuer"];
            }
            else
            {
                options.TokenValidationParameters.ValidIssuer = LocalIssuer;
                options.TokenValidationParameters.ValidAudience = LocalAudience;
                options.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(LocalSigningKey(auth));
            }
            options.Events = new JwtBearerEvents
            {
                OnChallenge = async context =>
                {
                    context.HandleResponse();
                    var detail = context.AuthenticateFailure switch
                    {
                        SecurityTokenExpiredException => "The bearer token has expired; get a new one.",
                        null => "Send 'Authorization: Bearer <token>'. Locally, ./scripts/token.sh ROLE [SCOPE] prints one.",
                        _ => "The bearer token was not accepted (wrong issuer, audience or signature); get one from the platform's issuer.",
                    };
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await Results.Problem(statusCode: 401, title: "Authentication required", detail: detail).ExecuteAsync(context.HttpContext);
                },
            };
        });
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbiddenAsProblem>();
        services.AddScoped<IAuthorizationHandler, EndpointScopeHandler>();
        return services;
    }

    private static byte[] LocalSigningKey(IConfigurationSection auth)
    {
        var key = auth["SigningKey"];
        if (string.IsNullOrWhiteSpace(key) && auth["SigningKeyFile"] is { Length: > 0 } file)
        {
            key = File.Exists(file) ? File.ReadAllText(file).Trim() : throw new InvalidOperationException($"Auth:SigningKeyFile {file} does not exist; ./scripts/run.sh creates it.");
        }
        if (string.IsNullOrWhiteSpace(key) || key.Length < 32)
        {
            throw new InvalidOperationException("No token issuer is configured: set Auth:Authority and Auth:Audience (Entra ID), or Auth:SigningKey / Auth:SigningKeyFile (at least 32 characters) for local tokens.");
        }
        return Encoding.UTF8.GetBytes(key);
    }

    /// <summary>
    /// Requires one of the roles, on top of the endpoint's line in <see cref="EndpointAccess.Rules"/>; an endpoint
    /// is declared there, this is for a new endpoint until its line is written.
    /// </summary>
    public static TBuilder RequireRoles<TBuilder>(this TBuilder builder, params string[] roles) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(policy => policy.RequireAuthenticatedUser().RequireRole(roles));

    private sealed class ForbiddenAsProblem : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
        {
            if (result.Forbidden)
            {
                var scope = result.AuthorizationFailure?.FailureReasons.OfType<ScopeFailure>().FirstOrDefault();
                if (scope is not null)
                {
                    var status = scope.Hidden ? StatusCodes.Status404NotFound : StatusCodes.Status403Forbidden;
                    context.Response.StatusCode = status;
                    await Results.Problem(statusCode: status, title: scope.Hidden ? "Not found" : "Forbidden", detail: scope.Message).ExecuteAsync(context);
                    return;
                }
                var needed = policy.Requirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct().ToList();
                var held = Roles.All.Where(context.User.IsInRole).ToList();
                var detail = needed.Count > 0
                    ? $"This needs the {string.Join(" or ", needed)} role; your token has {(held.Count > 0 ? string.Join(", ", held) : "no role")}."
                    : "Your token does not allow this.";
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await Results.Problem(statusCode: 403, title: "Forbidden", detail: detail).ExecuteAsync(context);
                return;
            }
            await _default.HandleAsync(next, context, policy, result);
        }
    }
}
